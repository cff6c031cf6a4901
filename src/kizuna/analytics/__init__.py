"""KPIs, dashboards, charts and the report builder."""
