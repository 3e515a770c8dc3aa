"""Citizen field reports: catalogue, intake and routing, SLA workflow, follow-up, hotline."""
