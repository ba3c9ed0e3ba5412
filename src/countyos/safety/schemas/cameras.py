"""Input models of the camera-detected events (视频智能发现) part of the safety domain."""
