"""Quote logic that needs no database: money and tax, numbering, the PDF."""
