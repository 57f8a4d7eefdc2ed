"""The RTSP door: a strict proxy between a city's viewer and the share's upstream.

`messages` reads and writes RTSP without any I/O, `rules` decides what a viewer may ask for,
`upstream` is the door's own session with the camera (or the restreamer), `server` listens.
"""

from rtcc_gateway.door.rtsp.server import Admission, RtspDoor

__all__ = ["Admission", "RtspDoor"]
