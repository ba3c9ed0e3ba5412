"""Sensing: OGC SensorThings things/datastreams/observations, ingest over HTTP and MQTT, rollups,
retention, device health, rules as data and alarms that open cases."""
