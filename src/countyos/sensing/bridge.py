"""The MQTT bridge (filled in below)."""
