"""A small client for Monado's remote driver (protocol "mndrmt3").

Monado's ``remote`` builder listens on a TCP port (``config_v0.json``:
``{"active": "remote", "remote": {"version": 0, "port": P, "view_count": 2}}``) and
replaces its whole device state (head, two controllers) with every 376-byte packet it
receives. It serves one connection at a time and sends its reset and latest state (two
packets) on connect. Layout (little-endian, float32; see shared/GODOT_CI.md section 4 and
Monado's ``src/xrt/drivers/remote/r_interface.h``):

=======  =====================================================================
offset   field
=======  =====================================================================
0        magic ``b"mndrmt3\\0"``
8        two views: {fov left, right, up, down; pose; 4 pad} = 2 x 48 bytes
104      head centre pose (28 bytes: quaternion x, y, z, w; position x, y, z)
132      per_view_data_valid (bool) + 3 pad
136      left controller (120 bytes)
256      right controller (120 bytes)
=======  =====================================================================

A controller: pose (0), linear velocity (28), angular velocity (40), hand curl x5 (52),
trigger value (72), squeeze value (76), squeeze force (80), thumbstick x, y (84),
trackpad force (92), trackpad x, y (96), then 16 bools at 104 (see ``_BOOL_FIELDS``).
The remote controllers present themselves as Valve Index controllers.
"""

from __future__ import annotations

import math
import re
import socket
import struct
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

MAGIC = b"mndrmt3\0"
PACKET_SIZE = 376
CONTROLLER_SIZE = 120
LEFT_OFFSET = 136
RIGHT_OFFSET = 256

_POSE = struct.Struct("<7f")  # qx, qy, qz, qw, px, py, pz
_VIEW = struct.Struct("<4f7f4x")  # fov l, r, u, d; pose; pad
_CONTROLLER = struct.Struct("<7f3f3f5f3f2ff2f13?3x")
_BOOL_FIELDS = (
    "hand_tracking_active",
    "active",
    "system_click",
    "system_touch",
    "a_click",
    "a_touch",
    "b_click",
    "b_touch",
    "trigger_click",
    "trigger_touch",
    "thumbstick_click",
    "thumbstick_touch",
    "trackpad_touch",
)
# Symmetric field of view of each eye, radians (left, right, up, down).
DEFAULT_FOV = (-0.8, 0.8, 0.8, -0.8)
LISTENING_RE = "Listening on port '{port}'"

assert _CONTROLLER.size == CONTROLLER_SIZE
assert 8 + 2 * _VIEW.size + _POSE.size + 4 + 2 * CONTROLLER_SIZE == PACKET_SIZE


@dataclass(frozen=True)
class Pose:
    """Orientation (unit quaternion x, y, z, w) and position (metres), tracking space."""

    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def pack(self) -> bytes:
        return _POSE.pack(*self.orientation, *self.position)


def pitch(angle_rad: float) -> tuple[float, float, float, float]:
    """Quaternion of a rotation about +X (negative angles tilt -Z, "forward", down)."""
    return (math.sin(angle_rad / 2.0), 0.0, 0.0, math.cos(angle_rad / 2.0))


@dataclass(frozen=True)
class Controller:
    """One remote controller; only the fields a test sets need to differ from zero."""

    pose: Pose = Pose()
    active: bool = True
    trigger_value: float = 0.0
    trigger_click: bool = False
    squeeze_value: float = 0.0
    thumbstick: tuple[float, float] = (0.0, 0.0)
    a_click: bool = False
    b_click: bool = False
    system_click: bool = False

    def pack(self) -> bytes:
        bools = {name: False for name in _BOOL_FIELDS}
        bools.update(
            active=self.active,
            a_click=self.a_click,
            a_touch=self.a_click,
            b_click=self.b_click,
            b_touch=self.b_click,
            system_click=self.system_click,
            trigger_click=self.trigger_click,
            trigger_touch=self.trigger_value > 0.0,
            thumbstick_touch=self.thumbstick != (0.0, 0.0),
        )
        return _CONTROLLER.pack(
            *self.pose.orientation,
            *self.pose.position,
            0.0, 0.0, 0.0,  # linear velocity
            0.0, 0.0, 0.0,  # angular velocity
            0.0, 0.0, 0.0, 0.0, 0.0,  # hand curl
            self.trigger_value,
            self.squeeze_value,
            0.0,  # squeeze force
            *self.thumbstick,
            0.0,  # trackpad force
            0.0, 0.0,  # trackpad
            *(bools[name] for name in _BOOL_FIELDS),
        )  # fmt: skip


@dataclass(frozen=True)
class RemoteState:
    """The whole state the remote driver takes from one packet."""

    head: Pose = Pose(position=(0.0, 1.6, 0.0))
    left: Controller = Controller(pose=Pose(position=(-0.2, 1.2, -0.4)))
    right: Controller = Controller(pose=Pose(position=(0.2, 1.2, -0.4)))
    eye_offset_m: float = 0.032
    fov: tuple[float, float, float, float] = field(default=DEFAULT_FOV)

    def pack(self) -> bytes:
        views = b""
        for side in (-1.0, 1.0):
            hx, hy, hz = self.head.position
            eye = (hx + side * self.eye_offset_m, hy, hz)
            views += _VIEW.pack(*self.fov, *self.head.orientation, *eye)
        data = (
            MAGIC
            + views
            + self.head.pack()
            + struct.pack("<?3x", True)
            + self.left.pack()
            + self.right.pack()
        )
        assert len(data) == PACKET_SIZE
        return data

    def with_right(self, **changes: object) -> RemoteState:
        return replace(self, right=replace(self.right, **changes))  # type: ignore[arg-type]

    def with_left(self, **changes: object) -> RemoteState:
        return replace(self, left=replace(self.left, **changes))  # type: ignore[arg-type]


def unpack_controller(data: bytes) -> dict[str, object]:
    """The fields of one 120-byte controller block (for checks and debugging)."""
    v = _CONTROLLER.unpack(data)
    return {
        "orientation": v[0:4],
        "position": v[4:7],
        "trigger_value": v[18],
        "squeeze_value": v[19],
        "thumbstick": v[21:23],
        **dict(zip(_BOOL_FIELDS, v[26:39], strict=True)),
    }


def wait_for_listening(log_path: Path, port: int, timeout_s: float) -> None:
    """Wait until the service's log shows ``Listening on port 'P'``.

    Never probe the port with a throwaway connection: the service serves one connection at
    a time and a probe left the next connection refused (GODOT_CI.md section 4).
    """
    needle = LISTENING_RE.format(port=port)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log_path.is_file() and needle in log_path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    tail = log_path.read_text(errors="replace")[-3000:] if log_path.is_file() else ""
    raise TimeoutError(f"monado-service did not log {needle!r} in {timeout_s} s:\n{tail}")


class MonadoRemote:
    """One kept connection to the remote driver; :meth:`send` replaces the whole state."""

    def __init__(self, host: str, port: int, timeout_s: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.state = RemoteState()
        self.received: list[bytes] = []
        self._buffer = b""

    def send(self, state: RemoteState) -> None:
        self.state = state
        self.sock.sendall(state.pack())
        self.drain()

    def drain(self) -> None:
        """Read whatever state packets the service sent, without blocking."""
        self.sock.setblocking(False)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self._buffer += chunk
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)
        while len(self._buffer) >= PACKET_SIZE:
            self.received.append(self._buffer[:PACKET_SIZE])
            self._buffer = self._buffer[PACKET_SIZE:]

    def hold(self, state: RemoteState, seconds: float, rate_hz: float = 30.0) -> None:
        """Send ``state`` repeatedly for ``seconds`` (keeps it current for the runtime)."""
        end = time.monotonic() + seconds
        while True:
            self.send(state)
            if time.monotonic() >= end:
                return
            time.sleep(1.0 / rate_hz)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> MonadoRemote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def listening_port(log_text: str) -> int | None:
    """The port of the first ``Listening on port 'P'`` line in ``log_text``."""
    m = re.search(r"Listening on port '(\d+)'", log_text)
    return int(m.group(1)) if m else None
