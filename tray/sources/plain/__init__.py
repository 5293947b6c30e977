"""Sources with no vendor API: a plain HTTP check, another secondline's endpoint (a hub), and the demo."""
