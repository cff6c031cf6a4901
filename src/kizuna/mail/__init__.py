"""E-mail: templates with merge fields, sending through SMTP, incoming mail, digests."""
