"""Episode recordings of the robot bridge: the record-file format of ``utils/recordfile.py``."""

from sensorimotor.utils.recordfile import MAX_RECORD_BYTES, Recorder, read_recording

__all__ = ["MAX_RECORD_BYTES", "Recorder", "read_recording"]
