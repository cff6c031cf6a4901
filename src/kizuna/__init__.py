"""Kizuna (絆): a CRM for small and mid-size B2B companies in Japan and Korea."""

__version__ = "0.1.0"
