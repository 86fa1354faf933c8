"""Sans-I/O session state machines: handshake, version negotiation, the state table."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.protocol import (
    ChunkData,
    ChunkState,
    ClientConnection,
    EditMode,
    EditRequest,
    Error,
    ErrorCode,
    Goodbye,
    Hello,
    Join,
    JoinAccepted,
    JoinWithTicket,
    LocalProtocolError,
    Opcode,
    ProtocolViolation,
    Role,
    ServerConnection,
    SessionClosed,
    SessionState,
    TransferRequest,
    TransferTo,
    Welcome,
    decode,
    encode,
)
from server.protocol.golden import examples
from server.protocol.opcodes import PROTOCOL_VERSION
from server.protocol.states import RECEIVE, SEND, may_receive

ACCEPT = JoinAccepted(1, 0, 1, 0, 0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0), 4)
EXAMPLE_BY_OPCODE = {m.OPCODE: m for _, m in examples()}


def pipe(src: ServerConnection | ClientConnection,
         dst: ServerConnection | ClientConnection) -> list[object]:
    for frame in src.data_to_send():
        dst.receive_data(frame)
    return dst.events_received()


def joined_pair() -> tuple[ServerConnection, ClientConnection]:
    server, client = ServerConnection(), ClientConnection()
    client.hello("test")
    client.send(Join("", "t"))  # pipelined before WELCOME
    events = pipe(client, server)
    assert [type(e) for e in events] == [Hello, Join]
    assert server.state is SessionState.AWAIT_JOIN
    server.send(ACCEPT)
    events = pipe(server, client)
    assert [type(e) for e in events] == [Welcome, JoinAccepted]
    assert server.state is client.state is SessionState.JOINED
    assert client.version == server.version == PROTOCOL_VERSION == 3
    return server, client


def test_handshake_sequence() -> None:
    joined_pair()


def test_v1_client_still_accepted_by_a_v3_server() -> None:
    server = ServerConnection()
    server.receive_data(encode(Hello(1, 1, "old-client")))
    server.events_received()
    (welcome,) = [decode(f) for f in server.data_to_send()]
    assert isinstance(welcome, Welcome) and welcome.version == 1 and welcome.min_version == 1
    assert server.version == 1


def test_version_negotiation_picks_highest_common() -> None:
    server = ServerConnection(min_version=1, max_version=4)
    server.receive_data(encode(Hello(2, 1)))
    (welcome,) = [decode(f) for f in server.data_to_send()]
    assert isinstance(welcome, Welcome) and welcome.version == 2 and welcome.min_version == 1


def test_unsupported_version_is_fatal_4003() -> None:
    server = ServerConnection()
    server.receive_data(encode(Hello(9, 5, "future")))
    events = server.events_received()
    assert isinstance(events[0], ProtocolViolation)
    assert events[0].code == ErrorCode.UNSUPPORTED_VERSION
    (err,) = [decode(f) for f in server.data_to_send()]
    assert isinstance(err, Error) and err.code == 4003 and "5..9" in err.reason
    assert server.state is SessionState.CLOSED and server.close_code == 4003
    # a client refusing the server's choice says goodbye with the same code
    client = ClientConnection(min_version=2, max_version=2)
    client.hello()
    client.data_to_send()
    client.receive_data(encode(Welcome(1, 1, 20, 65536)))
    assert client.close_code == 4003
    (bye,) = [decode(f) for f in client.data_to_send()]
    assert isinstance(bye, Goodbye) and bye.code == 4003


def test_edit_before_join_is_unexpected_4002() -> None:
    server = ServerConnection()
    server.receive_data(encode(Hello(1, 1)))
    server.data_to_send()
    server.receive_data(encode(EditRequest(1, EditMode.EXCAVATE, (0.0, 0.0, 0.0), 1.0)))
    (ev,) = [e for e in server.events_received() if isinstance(e, ProtocolViolation)]
    assert ev.code == ErrorCode.UNEXPECTED_MESSAGE and "await_join" in ev.reason
    (err,) = [decode(f) for f in server.data_to_send()]
    assert isinstance(err, Error) and err.code == 4002
    assert server.close_code == 4002


def test_every_illegal_opcode_in_every_state_is_a_violation() -> None:
    """Walk the table: any opcode the table does not allow closes with 4002 (or 4001)."""
    for role, state in itertools.product(Role, [SessionState.AWAIT_HELLO,
                                                SessionState.AWAIT_JOIN,
                                                SessionState.JOINED]):
        for op in Opcode:
            if may_receive(role, state, op):
                continue
            conn: ServerConnection | ClientConnection = (
                ServerConnection() if role is Role.SERVER else ClientConnection())
            conn.state = state
            conn.receive_data(encode(EXAMPLE_BY_OPCODE[op]))
            events = conn.events_received()
            assert isinstance(events[-1], ProtocolViolation), (role, state, op)
            assert events[-1].code == ErrorCode.UNEXPECTED_MESSAGE
            assert conn.state is SessionState.CLOSED


def test_table_is_complete_and_directional() -> None:
    for role, state in itertools.product(Role, SessionState):
        assert (role, state) in RECEIVE and (role, state) in SEND
    assert not RECEIVE[(Role.SERVER, SessionState.JOINED)] & {Opcode.CHUNK_STATE,
                                                              Opcode.WELCOME}


def test_text_frames_and_oversize_frames() -> None:
    server = ServerConnection(max_frame_bytes=100)
    server.receive_text("hello")
    assert server.close_code == ErrorCode.UNSUPPORTED_DATA
    server = ServerConnection(max_frame_bytes=100)
    server.receive_data(b"\x01\x00" + bytes(200))
    assert server.close_code == ErrorCode.MESSAGE_TOO_BIG


def test_closed_connection_ignores_input() -> None:
    server, _ = joined_pair()
    server.receive_data(encode(Goodbye(1000, "bye")))
    assert isinstance(server.events_received()[0], SessionClosed)
    assert server.close_code == 1000
    server.receive_data(b"garbage")
    assert server.events_received() == [] and server.data_to_send() == []


def test_illegal_sends_are_local_errors() -> None:
    server = ServerConnection()
    with pytest.raises(LocalProtocolError):
        server.send(ChunkState(ChunkData((0, 0, 0), 0)))
    client = ClientConnection()
    with pytest.raises(LocalProtocolError):
        client.send(ChunkState(ChunkData((0, 0, 0), 0)))
    with pytest.raises(LocalProtocolError):
        server.send_frame(b"\x07\x00", "CHUNK_STATE")


def test_fatal_error_received_closes_client() -> None:
    client = ClientConnection()
    client.hello()
    client.receive_data(encode(Error(4007, "server full")))
    events = client.events_received()
    assert isinstance(events[0], Error) and isinstance(events[1], SessionClosed)
    assert client.close_code == 4007


def test_non_fatal_error_keeps_session() -> None:
    server, client = joined_pair()
    server.send(Error(int(ErrorCode.CHUNK_OUT_OF_RANGE), "too far", 3))
    events = pipe(server, client)
    assert isinstance(events[0], Error) and client.state is SessionState.JOINED
    assert not ErrorCode.CHUNK_OUT_OF_RANGE.fatal and ErrorCode.INVALID_VALUE.fatal


@given(st.lists(st.binary(max_size=80), max_size=8))
@settings(max_examples=500, deadline=None)
def test_fuzzed_session_never_raises(frames: list[bytes]) -> None:
    server = ServerConnection()
    for f in frames:
        server.receive_data(f)
    for ev in server.events_received():
        if isinstance(ev, ProtocolViolation):
            assert ev.code >= 1000
    for out in server.data_to_send():
        decode(out)  # whatever the server sends is well-formed


# ---- protocol version 3: join tickets and transfers -------------------------------------

TICKET = JoinWithTicket("v1.jt.abc~DEF-123", "Ada")
ORDER = TransferTo("planet-1", "ws://127.0.0.1:7781", "v1.tt.xyz", 30000)


def ticket_pair(client_max: int = 3, server_max: int = 3,
                pipelined: bool = True) -> tuple[ServerConnection, ClientConnection]:
    """HELLO + JOIN_WITH_TICKET (pipelined or after WELCOME), JOIN_ACCEPTED: both JOINED."""
    server = ServerConnection(max_version=server_max)
    client = ClientConnection(max_version=client_max)
    client.hello("test")
    if not pipelined:
        pipe(client, server)
        assert [type(e) for e in pipe(server, client)] == [Welcome]
    client.send(TICKET)
    events = pipe(client, server)
    assert [type(e) for e in events] == ([Hello, JoinWithTicket] if pipelined
                                         else [JoinWithTicket])
    assert events[-1] == TICKET and server.state is SessionState.AWAIT_JOIN
    server.send(ACCEPT)
    assert server.state is SessionState.JOINED
    events = pipe(server, client)
    assert type(events[-1]) is JoinAccepted and client.state is SessionState.JOINED
    return server, client


@pytest.mark.parametrize("pipelined", [True, False])
def test_join_with_ticket_then_transfer(pipelined: bool) -> None:
    server, client = ticket_pair(pipelined=pipelined)
    assert server.version == client.version == 3
    client.send(TransferRequest("planet-1"))
    assert pipe(client, server) == [TransferRequest("planet-1")]
    # a refusal is a non-fatal notice: both stay JOINED
    server.send(Error(int(ErrorCode.TRANSFER_REFUSED), "QUARANTINED: planet-1 (retry after 5 ms)"))
    (err,) = pipe(server, client)
    assert isinstance(err, Error) and err.code == 4103 and not ErrorCode.TRANSFER_REFUSED.fatal
    assert server.state is client.state is SessionState.JOINED
    # the order, then GOODBYE 1000 "transferred to <map>"
    client.send(TransferRequest("planet-1"))
    pipe(client, server)
    server.send(ORDER)
    server.close(ErrorCode.NORMAL, "transferred to planet-1")
    events = pipe(server, client)
    assert events == [ORDER, SessionClosed(1000, "transferred to planet-1")]
    assert client.state is server.state is SessionState.CLOSED
    assert client.close_code == 1000


def test_ticket_denied_is_fatal_4010() -> None:
    server = ServerConnection()
    client = ClientConnection()
    client.hello()
    client.send(TICKET)
    pipe(client, server)
    reason = "EXPIRED: ticket expired 5 ms ago; re-bootstrap: POST /orch/bootstrap"
    server.send(Error(int(ErrorCode.TICKET_DENIED), reason))
    assert server.state is SessionState.CLOSED and server.close_code == 4010
    events = pipe(server, client)
    assert isinstance(events[-2], Error) and events[-2].code == 4010
    assert events[-1] == SessionClosed(4010, reason)
    assert client.close_code == 4010 and ErrorCode.TICKET_DENIED.fatal


@pytest.mark.parametrize("version", [1, 2])
def test_v3_messages_received_by_an_older_session_are_4002(version: int) -> None:
    # JOIN_WITH_TICKET to a server that negotiated < 3 (an old client pipelining it)
    server = ServerConnection()
    server.receive_data(encode(Hello(version, 1)))
    server.data_to_send()
    assert server.version == version
    server.receive_data(encode(TICKET))
    (ev,) = [e for e in server.events_received() if isinstance(e, ProtocolViolation)]
    assert ev.code == ErrorCode.UNEXPECTED_MESSAGE
    assert ev.reason == "JOIN_WITH_TICKET needs protocol version 3"
    (err,) = [decode(f) for f in server.data_to_send()]
    assert isinstance(err, Error) and err.code == 4002 and server.close_code == 4002
    # ... and by a server that speaks only up to 2 (whatever the client offers)
    old = ServerConnection(max_version=2)
    old.receive_data(encode(Hello(3, 1)))
    old.receive_data(encode(TICKET))
    assert old.version == 2 and old.close_code == 4002
    # TRANSFER_REQUEST in a JOINED session that negotiated < 3
    server = ServerConnection()
    server.receive_data(encode(Hello(version, 1)))
    server.receive_data(encode(Join("", "x")))
    server.send(ACCEPT)
    server.receive_data(encode(TransferRequest("planet-1")))
    violations = [e for e in server.events_received() if isinstance(e, ProtocolViolation)]
    assert violations == [ProtocolViolation(ErrorCode.UNEXPECTED_MESSAGE,
                                            "TRANSFER_REQUEST needs protocol version 3")]
    # TRANSFER_TO to a client whose session negotiated < 3
    client = ClientConnection()
    client.hello()
    client.receive_data(encode(Welcome(version, 1, 20, 65536)))
    client.receive_data(encode(ACCEPT))
    assert client.state is SessionState.JOINED
    client.data_to_send()
    client.receive_data(encode(ORDER))
    assert client.close_code == 4002
    (bye,) = [decode(f) for f in client.data_to_send()]
    assert isinstance(bye, Goodbye) and bye.code == 4002 and "version 3" in bye.reason


@pytest.mark.parametrize("version", [1, 2])
def test_v3_messages_sent_on_an_older_session_are_local_errors(version: int) -> None:
    server = ServerConnection()
    server.receive_data(encode(Hello(version, 1)))
    server.receive_data(encode(Join("", "x")))
    server.send(ACCEPT)
    assert server.state is SessionState.JOINED and server.version == version
    with pytest.raises(LocalProtocolError, match="TRANSFER_TO needs protocol version 3"):
        server.send(ORDER)
    assert server.state is SessionState.JOINED  # nothing queued, nothing changed
    assert all(decode(f).OPCODE is not Opcode.TRANSFER_TO for f in server.data_to_send())
    # a client offering at most 2 cannot pipeline JOIN_WITH_TICKET ...
    client = ClientConnection(max_version=2)
    client.hello()
    with pytest.raises(LocalProtocolError, match="JOIN_WITH_TICKET"):
        client.send(TICKET)
    # ... and a v3 client whose server chose < 3 cannot send it or TRANSFER_REQUEST
    client = ClientConnection()
    client.hello()
    client.receive_data(encode(Welcome(version, 1, 20, 65536)))
    with pytest.raises(LocalProtocolError, match="JOIN_WITH_TICKET"):
        client.send(TICKET)
    client.send(Join("", "x"))
    client.receive_data(encode(ACCEPT))
    with pytest.raises(LocalProtocolError, match="TRANSFER_REQUEST"):
        client.send(TransferRequest("planet-1"))


def test_v3_state_table() -> None:
    """JOIN_WITH_TICKET where JOIN is; TRANSFER_REQUEST / TRANSFER_TO only in JOINED."""
    for state in (SessionState.AWAIT_HELLO, SessionState.AWAIT_JOIN, SessionState.JOINED):
        for role in Role:
            assert may_receive(role, state, Opcode.JOIN_WITH_TICKET) == may_receive(
                role, state, Opcode.JOIN)
            assert (Opcode.JOIN_WITH_TICKET in SEND[(role, state)]) == (
                Opcode.JOIN in SEND[(role, state)])
    joined = SessionState.JOINED
    assert {s for s in SessionState if may_receive(Role.SERVER, s, Opcode.TRANSFER_REQUEST)} == {
        joined}
    assert {s for s in SessionState if may_receive(Role.CLIENT, s, Opcode.TRANSFER_TO)} == {
        joined}
    assert not any(may_receive(Role.CLIENT, s, Opcode.TRANSFER_REQUEST) for s in SessionState)
    assert not any(may_receive(Role.SERVER, s, Opcode.TRANSFER_TO) for s in SessionState)
    # a TRANSFER_REQUEST before joining is 4002, as is TRANSFER_TO before JOIN_ACCEPTED
    server = ServerConnection()
    server.receive_data(encode(Hello(3, 1)))
    server.receive_data(encode(TransferRequest("planet-1")))
    assert server.close_code == 4002
    client = ClientConnection()
    client.hello()
    client.receive_data(encode(Welcome(3, 1, 20, 65536)))
    client.receive_data(encode(ORDER))
    assert client.close_code == 4002
    # direction: a server receiving TRANSFER_TO / a client receiving JOIN_WITH_TICKET
    server, client = ticket_pair()
    server.receive_data(encode(ORDER))
    assert server.close_code == 4002
    client.receive_data(encode(TICKET))
    assert client.close_code == 4002
