"""The SensorThings world of the conformance classes is the shared one (``sta`` in
``tests/sensing/conftest.py``, built by ``tests/sensing/sta_world.py``)."""
