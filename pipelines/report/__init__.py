"""Rendering of the published profile, the restricted tasking pack and the FMS exports."""
