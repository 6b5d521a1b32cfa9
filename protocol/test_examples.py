"""Checks that the protocol v1 document, its schemas, its examples and the Swift
wire types agree.

Run from the repository root: python3 -m pytest protocol -q
"""

import copy
import functools
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCHEMAS = HERE / "schemas"
EXAMPLES = HERE / "examples"
WIRE = ROOT / "Sources" / "SocialProtocol"
COMMON = "common.json"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


SCHEMA_FILES = sorted(SCHEMAS.glob("*.json"))
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))
SCHEMA_BY_NAME = {p.name: load(p) for p in SCHEMA_FILES}


# --- Custom keywords ---------------------------------------------------------
# JSON Schema counts string lengths in code points; two limits of the protocol
# are in bytes. They are written as `x-` keywords (annotations to any other
# validator, which draft 2020-12 allows) and enforced here.


def approximate_size(value):
    """The gateway's measure of a `data` value (`JSONValue.approximateSize`)."""
    if value is None or isinstance(value, bool):
        return 5
    if isinstance(value, (int, float)):
        return 24
    if isinstance(value, str):
        return len(value.encode("utf-8")) + 2
    if isinstance(value, list):
        return 2 + sum(approximate_size(v) + 1 for v in value)
    return 2 + sum(len(k.encode("utf-8")) + 4 + approximate_size(v) for k, v in value.items())


def max_utf8_bytes(validator, limit, instance, schema):
    if isinstance(instance, str) and len(instance.encode("utf-8")) > limit:
        yield ValidationError(f"{instance[:20]!r}... is longer than {limit} UTF-8 bytes")


def max_data_size(validator, limit, instance, schema):
    size = approximate_size(instance)
    if size > limit:
        yield ValidationError(f"data measures {size} bytes, more than {limit}")


ProtocolValidator = validators.extend(
    Draft202012Validator, {"x-maxUtf8Bytes": max_utf8_bytes, "x-maxDataSize": max_data_size}
)

REGISTRY = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema)) for schema in SCHEMA_BY_NAME.values()
)


def validator_for(schema_name):
    return ProtocolValidator(SCHEMA_BY_NAME[schema_name], registry=REGISTRY)


def schema_name_for(example_name):
    """`error.<code>.reply.json` examples share `error.reply.json`; the others
    are named like their schema, with `--<variant>` before `.json` when a frame
    has several examples (`group.info.reply--invited.json`)."""
    name = re.sub(r"--[a-z0-9_-]+\.json$", ".json", example_name)
    return "error.reply.json" if re.fullmatch(r"error\.[a-z_]+\.reply\.json", name) else name


# --- The Swift side -----------------------------------------------------------


def swift_names(enum):
    text = (WIRE / "Wire" / "Ops.swift").read_text()
    body = re.search(r"public enum " + enum + r" \{(.*?)\n\}", text, re.S).group(1)
    return re.findall(r'public static let \w+ = "([^"]+)"', body)


OPS = swift_names("Op")
EVENTS = swift_names("EventName")


def error_codes_in_swift():
    text = (WIRE / "ErrorCode.swift").read_text()
    return re.findall(r'public static let \w+ = ErrorCode\(rawValue: "([a-z_]+)"\)', text)


def matching_brace(text, open_index):
    """The index just past the `}` that closes the `{` at `open_index`."""
    depth, i = 0, open_index
    while True:
        depth += text[i] == "{"
        depth -= text[i] == "}"
        i += 1
        if depth == 0:
            return i


@functools.cache
def swift_structs():
    """Every struct of the wire sources: name -> {JSON key: is optional}, read
    from its stored properties and `CodingKeys`. Nested structs are named
    `Outer.Inner`."""
    structs = {}
    for path in sorted(WIRE.glob("*.swift")) + sorted((WIRE / "Wire").glob("*.swift")):
        text = path.read_text()
        found = []  # (name, body start, body end)
        for m in re.finditer(r"\bstruct (\w+)[^{]*\{", text):
            found.append((m.group(1), m.end(), matching_brace(text, m.end() - 1) - 1))
        for name, start, end in found:
            outer = [n for n, s, e in found if s < start and end <= e]
            body = text[start:end]
            # Drop nested struct bodies: their fields and keys are their own.
            for _, s, e in sorted((f for f in found if start < f[1] and f[2] <= end), reverse=True):
                body = body[: s - start] + body[e - start :]
            fields = {
                m.group(1): m.group(2).rstrip().endswith("?")
                for m in re.finditer(r"^\s*(?:public )?(?:var|let) (\w+): ([^={\n]+)$", body, re.M)
            }
            mapping = {}
            ck = re.search(r"enum CodingKeys[^{]*\{(.*?)\}", body, re.S)
            if ck:
                for case in re.findall(r"case ([^\n]+)", ck.group(1)):
                    for item in case.split(","):
                        m = re.fullmatch(r'\s*(\w+)(?:\s*=\s*"([^"]+)")?\s*', item)
                        assert m, f"cannot read CodingKeys item {item!r} of {name}"
                        mapping[m.group(1)] = m.group(2) or m.group(1)
                assert set(mapping) == set(fields), f"{name}: CodingKeys do not name every stored property"
            structs[".".join(outer + [name])] = {mapping.get(f, f): optional for f, optional in fields.items()}
    return structs


# --- Schema helpers --------------------------------------------------------


def resolve(schema, base):
    """Follows a `$ref` (local to `base` or into another file): (schema, its file)."""
    while "$ref" in schema:
        ref = schema["$ref"]
        file, _, pointer = ref.partition("#")
        file = file or base
        target = SCHEMA_BY_NAME[file]
        for part in pointer.strip("/").split("/") if pointer else []:
            target = target[part]
        # `$ref` beside other keywords: the object is described by the target.
        schema, base = target, file
    return schema, base


def at(schema_name, path):
    schema, base = SCHEMA_BY_NAME[schema_name], schema_name
    for part in path:
        schema, base = resolve(schema, base)
        schema = schema["items"] if part == "[]" else schema["properties"][part]
    return resolve(schema, base)[0]


# Which schema object is which Swift type.
COMMAND_ARGS = {
    "ping": "PingArgs", "group.create": "GroupCreateArgs", "group.invite": "GroupUserArgs",
    "group.join": "GroupRef", "group.leave": "GroupRef", "group.kick": "GroupUserArgs",
    "group.set_role": "GroupSetRoleArgs", "group.transfer": "GroupUserArgs", "group.rename": "GroupRenameArgs",
    "group.info": "GroupRef", "groups.list": "Empty", "chat.open_direct": "OpenDirectArgs", "chats.list": "Empty",
    "chat.send": "SendArgs", "chat.edit": "EditArgs", "chat.delete": "ChatSeqArgs", "chat.react": "ReactArgs",
    "chat.history": "HistoryArgs", "chat.read": "ChatSeqArgs", "chat.typing": "TypingArgs", "sync": "SyncArgs",
    "presence.set": "PresenceSetArgs", "presence.subscribe": "PresenceUsersArgs",
    "presence.unsubscribe": "PresenceUsersArgs", "presence.query": "PresenceUsersArgs",
    # REST proxy
    "proxy.request": "ProxyRequestArgs",
    "notifications.list": "NotificationsListArgs", "notifications.ack": "NotificationsAckArgs",
}
REPLY_RESULTS = {
    "ping": "PingResult", "group.create": "GroupResult", "group.invite": "SystemMessageResult",
    "group.join": "GroupResult", "group.leave": "SystemMessageResult", "group.kick": "SystemMessageResult",
    "group.set_role": "SystemMessageResult", "group.transfer": "SystemMessageResult",
    "group.rename": "SystemMessageResult", "group.info": "GroupInfoResult", "groups.list": "GroupsListResult",
    "chat.open_direct": "OpenDirectResult", "chats.list": "ChatsListResult", "chat.send": "SendResult",
    "chat.edit": "MessageResult", "chat.delete": "MessageResult", "chat.react": "ReactResult",
    "chat.history": "HistoryResult", "chat.read": "ReadResult", "chat.typing": "TypingResult", "sync": "SyncResult",
    "presence.set": "PresenceSelfResult", "presence.subscribe": "PresenceListResult",
    "presence.unsubscribe": "Empty", "presence.query": "PresenceListResult",
    # REST proxy
    "proxy.request": "ProxyResult",
    "notifications.list": "NotificationsListResult", "notifications.ack": "NotificationsAckResult",
}
EVENT_DATA = {
    "hello": "HelloEvent", "message.new": "MessageEvent", "message.edited": "MessageEvent",
    "message.deleted": "MessageEvent", "reaction": "ReactionEvent", "member": "SystemChangeEvent",
    "group.updated": "SystemChangeEvent", "typing": "TypingEvent", "read": "ReadEvent",
    "chat.added": "ChatAddedEvent", "chat.removed": "ChatRemovedEvent", "invitation": "InvitationEvent",
    "resync": "ResyncEvent", "presence": "PresenceEvent",
    "notification": "NotificationEvent", "notifications.digest": "NotificationsDigestEvent",
    "notifications.badge": "NotificationsBadgeEvent",
}
OBJECTS = (
    [((f"{op}.command.json", ("args",)), t) for op, t in COMMAND_ARGS.items()]
    + [((f"{op}.reply.json", ("ok",)), t) for op, t in REPLY_RESULTS.items()]
    + [((f"{e}.event.json", ("data",)), t) for e, t in EVENT_DATA.items()]
    + [
        (("error.reply.json", ("error",)), "ErrorBody"),
        (("chat.send.reply.json", ("ok", "message")), "WireMessage"),
        (("chat.send.command.json", ("args", "attachments", "[]")), "WireAttachment"),
        (("message.new.event.json", ("data", "message", "system")), "WireSystemEvent"),
        (("group.create.reply.json", ("ok", "group")), "WireChat"),
        (("group.info.reply.json", ("ok", "members", "[]")), "WireMember"),
        (("invitation.event.json", ("data", "invitation")), "WireInvitation"),
        (("sync.command.json", ("args", "chats", "[]")), "SyncArgs.Position"),
        (("sync.reply.json", ("ok", "chats", "[]")), "SyncResult.ChatDelta"),
        (("presence.event.json", ("data", "presence")), "WirePresence"),
        (("presence.query.reply.json", ("ok", "presence", "[]")), "WirePresence"),
        (("notification.event.json", ("data", "notification")), "WireNotification"),
        (("notifications.list.reply.json", ("ok", "notifications", "[]")), "WireNotification"),
        (("sync.reply.json", ("ok", "notifications")), "SyncNotifications"),
    ]
)


# --- Tests -------------------------------------------------------------------


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path):
    schema = load(path)
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    assert schema.get("$id") == f"https://social.example/protocol/v1/{path.name}"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_validates_against_its_schema(path):
    name = schema_name_for(path.name)
    assert name in SCHEMA_BY_NAME, f"{path.name} has no schema {name}"
    validator_for(name).validate(load(path))


def test_variant_examples_share_their_frame_schema():
    assert schema_name_for("group.info.reply--invited.json") == "group.info.reply.json"
    assert schema_name_for("error.conflict.reply--full.json") == "error.reply.json"
    assert schema_name_for("error.conflict.reply.json") == "error.reply.json"


def test_every_example_has_a_schema_and_every_schema_an_example():
    examples = {schema_name_for(p.name) for p in EXAMPLE_FILES}
    schemas = set(SCHEMA_BY_NAME) - {COMMON}
    assert examples - schemas == set(), "examples without a schema"
    assert schemas - examples == set(), "schemas without an example"


def test_schemas_cover_exactly_the_ops_and_events_of_ops_swift():
    assert len(OPS) == 28 and len(EVENTS) == 17, "Ops.swift changed: update the spec, then these counts"
    expected = {f"{op}.command.json" for op in OPS} | {f"{op}.reply.json" for op in OPS}
    expected |= {f"{e}.event.json" for e in EVENTS} | {"error.reply.json", COMMON}
    assert set(SCHEMA_BY_NAME) == expected
    # The Swift-type tables below cover the same names.
    assert set(COMMAND_ARGS) == set(OPS) and set(REPLY_RESULTS) == set(OPS) and set(EVENT_DATA) == set(EVENTS)


def test_error_code_enum_matches_error_code_swift():
    enum = SCHEMA_BY_NAME[COMMON]["$defs"]["error_code"]["enum"]
    assert sorted(enum) == sorted(error_codes_in_swift())


def test_swift_struct_parser_reads_the_wire_types():
    # Guards the parser the next test relies on: if it silently read nothing,
    # that test would compare empty sets.
    structs = swift_structs()
    assert structs["WireMessage"]["updated_seq"] is False
    assert structs["WireMessage"]["edited_ts"] is True
    assert structs["SyncArgs.Position"] == {"chat_id": False, "seq": False, "read_seq": True}
    assert structs["SyncArgs"] == {"chats": False, "limit": True, "notifications_after": True}
    assert structs["ErrorBody"] == {"code": False, "message": False, "temporary": False, "retry_after_ms": True}
    assert structs["PingArgs"] == {}


@pytest.mark.parametrize("where,swift_type", OBJECTS, ids=lambda o: o if isinstance(o, str) else "/".join((o[0],) + o[1]))
def test_schema_fields_and_required_match_the_swift_type(where, swift_type):
    """Property names are the Swift `CodingKeys`; `required` lists exactly the
    non-optional fields."""
    schema_name, path = where
    obj = at(schema_name, path)
    fields = swift_structs()[swift_type]
    assert set(obj.get("properties", {})) == set(fields), f"{swift_type} fields"
    assert set(obj.get("required", [])) == {k for k, optional in fields.items() if not optional}, f"{swift_type} required"


@pytest.mark.parametrize(
    "schema_name,path",
    [(f"{op}.reply.json", ("ok",)) for op in REPLY_RESULTS] + [(f"{e}.event.json", ("data",)) for e in EVENT_DATA]
    + [(COMMON, (d,)) for d in ("message", "chat", "member", "invitation", "system_event", "error_body", "presence",
                                                  "notification")],
    ids=lambda v: v if isinstance(v, str) else "/".join(v),
)
def test_server_sent_objects_are_closed(schema_name, path):
    obj = SCHEMA_BY_NAME[COMMON]["$defs"][path[0]] if schema_name == COMMON else at(schema_name, path)
    assert obj.get("additionalProperties") is False


# The schemas must be able to fail: each mutation below breaks a rule the
# document states, and the schema has to reject it.
def mutate(example, schema, change):
    frame = copy.deepcopy(load(EXAMPLES / example))
    change(frame)
    return validator_for(schema).is_valid(frame)


MUTATIONS = {
    "text over 4096 bytes (2049 two-byte characters)": ("chat.send.command.json", lambda f: f["args"].update(text="é" * 2049)),
    "data over 4096 bytes": ("chat.send.command.json", lambda f: f["args"].update(data={"x": "a" * 4090})),
    "eleven attachments": ("chat.send.command.json", lambda f: f["args"].update(attachments=[{"url": "https://a.example/x"}] * 11)),
    "ftp attachment URL": ("chat.send.command.json", lambda f: f["args"]["attachments"][0].update(url="ftp://a.example/x")),
    "kind with capitals": ("chat.send.command.json", lambda f: f["args"].update(kind="Workout")),
    "client sends kind system": ("chat.send.command.json", lambda f: f["args"].update(kind="system")),
    "message with nothing in it": ("chat.send.command.json", lambda f: f.update(args={"chat_id": "c", "text": ""})),
    "client_msg_id of 65 characters": ("chat.send.command.json", lambda f: f["args"].update(client_msg_id="x" * 65)),
    "emoji of 33 bytes": ("chat.react.command.json", lambda f: f["args"].update(emoji="👏" * 8 + "a")),
    "empty title": ("group.create.command.json", lambda f: f["args"].update(title="")),
    "title of 201 characters": ("group.rename.command.json", lambda f: f["args"].update(title="t" * 201)),
    "set_role to owner": ("group.set_role.command.json", lambda f: f["args"].update(role="owner")),
    "history limit 0": ("chat.history.command.json", lambda f: f["args"].update(limit=0)),
    "history before and after": ("chat.history.command.json", lambda f: f["args"].update(after=2)),
    "sync limit 0": ("sync.command.json", lambda f: f["args"].update(limit=0)),
    "sync read_seq below 0": ("sync.command.json", lambda f: f["args"]["chats"][0].update(read_seq=-1)),
    "text that is only whitespace, alone": ("chat.send.command.json", lambda f: f.update(args={"chat_id": "c", "text": " \n"})),
    "workout card without workout_id": ("chat.send.command.json", lambda f: f["args"]["data"].pop("workout_id")),
    "attachment URL over 2048 bytes": ("chat.send.command.json", lambda f: f["args"]["attachments"][0].update(url="https://a.example/" + "é" * 1020)),
    "attachment meta over 4096 bytes": ("chat.send.command.json", lambda f: f["args"]["attachments"][0].update(meta={"x": "a" * 4090})),
    "emoji with a space": ("chat.react.command.json", lambda f: f["args"].update(emoji="👏 ")),
    "user_id over 128 bytes": ("group.invite.command.json", lambda f: f["args"].update(user_id="u" * 129)),
    "blank title": ("group.create.command.json", lambda f: f["args"].update(title="   ")),
    "command id not an integer": ("ping.command.json", lambda f: f.update(id="1")),
    "command without args when it needs them": ("chat.send.command.json", lambda f: f.pop("args")),
    "unknown field in a message": ("message.new.event.json", lambda f: f["data"]["message"].update(colour="red")),
    "message without reactions": ("message.new.event.json", lambda f: f["data"]["message"].pop("reactions")),
    "message seq 0": ("message.new.event.json", lambda f: f["data"]["message"].update(seq=0)),
    "tombstone with text": ("message.deleted.event.json", lambda f: f["data"]["message"].update(text="oops")),
    "system message without system": ("member.event.json", lambda f: f["data"]["message"].pop("system")),
    "group chat without title": ("chat.added.event.json", lambda f: f["data"]["chat"].pop("title")),
    "direct chat with an owner role": ("chat.open_direct.reply.json", lambda f: f["ok"]["chat"].update(role="owner")),
    "non-member role in a member's chat list": ("chats.list.reply.json", lambda f: f["ok"]["chats"][0].update(role="invited")),
    "invited view with a last message": ("group.info.reply--invited.json",
                                         lambda f: f["ok"]["group"].update(last_message=load(EXAMPLES / "member.event.json")["data"]["message"])),
    "visitor view with unread messages": ("group.info.reply--visitor.json", lambda f: f["ok"]["group"].update(unread=2)),
    "system event with an unknown role": ("member.event.json", lambda f: f["data"]["message"]["system"].update(role="guest")),
    "error reply without temporary": ("error.rate_limited.reply.json", lambda f: f["error"].pop("temporary")),
    "unknown error code": ("error.forbidden.reply.json", lambda f: f["error"].update(code="nope")),
    "error reply without id": ("error.bad_request.reply.json", lambda f: f.pop("id")),
    "unknown field in a reply": ("ping.reply.json", lambda f: f["ok"].update(extra=1)),
    "wrong hello version": ("hello.event.json", lambda f: f["data"].update(version="social.v2")),
    "presence.set to offline": ("presence.set.command.json", lambda f: f["args"].update(state="offline")),
    "presence.set activity without training": ("presence.set.command.json", lambda f: f["args"].update(state="away")),
    "activity with capitals": ("presence.set.command.json", lambda f: f["args"].update(activity="Run")),
    "activity of 33 characters": ("presence.set.command.json", lambda f: f["args"].update(activity="r" * 33)),
    "presence call without user_ids": ("presence.query.command.json", lambda f: f["args"].update(user_ids=[])),
    "presence call with 101 user_ids": ("presence.subscribe.command.json", lambda f: f["args"].update(user_ids=["u"] * 101)),
    "presence user id over 128 bytes": ("presence.unsubscribe.command.json", lambda f: f["args"].update(user_ids=["u" * 129])),
    "online presence with last_seen": ("presence.event.json", lambda f: f["data"]["presence"].update(state="online", last_seen=1)),
    "offline presence with an activity": ("presence.event--offline.json", lambda f: f["data"]["presence"].update(activity="run")),
    "unknown presence state": ("presence.query.reply.json", lambda f: f["ok"]["presence"][0].update(state="busy")),
    "presence list reply without denied": ("presence.subscribe.reply.json", lambda f: f["ok"].pop("denied")),
    "field in an empty reply": ("presence.unsubscribe.reply.json", lambda f: f["ok"].update(watching=1)),
    # REST proxy
    "proxy to an absolute URL": ("proxy.request.command.json", lambda f: f["args"].update(path="http://evil.example/v1")),
    "proxy to another host (//)": ("proxy.request.command.json", lambda f: f["args"].update(path="//evil.example/v1")),
    "proxy path with a backslash": ("proxy.request.command.json", lambda f: f["args"].update(path="/v1\\..\\admin")),
    "proxy path with a space": ("proxy.request.command.json", lambda f: f["args"].update(path="/v1/a b")),
    "proxy method TRACE": ("proxy.request.command.json", lambda f: f["args"].update(method="TRACE")),
    "proxy GET with a body": ("proxy.request.command.json", lambda f: f["args"].update(method="GET")),
    "proxy reply with an undocumented header": ("proxy.request.reply.json", lambda f: f["ok"]["headers"].update({"set-cookie": "a=b"})),
    "proxy reply with body and text": ("proxy.request.reply.json", lambda f: f["ok"].update(text="x")),
    "proxy reply without request_id": ("proxy.request.reply--text.json", lambda f: f["ok"].pop("request_id")),
    # Traces
    "traceparent in uppercase": ("chat.send.command--traced.json", lambda f: f.update(traceparent=f["traceparent"].upper())),
    "traceparent without flags": ("chat.send.command--traced.json", lambda f: f.update(traceparent=f["traceparent"][:-3])),
    "traceparent not a string": ("chat.send.command--traced.json", lambda f: f.update(traceparent=1)),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_schema_rejects(case):
    example, change = MUTATIONS[case]
    assert not mutate(example, schema_name_for(example), change), f"schema accepted: {case}"


def test_commands_accept_unknown_args_fields():
    # Forward compatibility: the server ignores fields it does not know.
    assert mutate("chat.send.command.json", "chat.send.command.json", lambda f: f["args"].update(future_field=1))


def test_every_command_schema_names_the_optional_traceparent():
    for op in OPS:
        assert at(f"{op}.command.json", ("traceparent",)) == SCHEMA_BY_NAME[COMMON]["$defs"]["traceparent"], op
        assert "traceparent" not in SCHEMA_BY_NAME[f"{op}.command.json"].get("required", []), op
    assert mutate("ping.command.json", "ping.command.json",
                  lambda f: f.update(traceparent="cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later"))


def test_page_limits_above_the_maximum_are_accepted():
    # The server lowers them to the maximum (ops.md: chat.history, sync).
    assert mutate("chat.history.command.json", "chat.history.command.json", lambda f: f["args"].update(limit=500))
    assert mutate("sync.command.json", "sync.command.json", lambda f: f["args"].update(limit=5000))


def test_text_of_4096_bytes_is_accepted():
    assert mutate("chat.send.command.json", "chat.send.command.json", lambda f: f["args"].update(text="é" * 2048))


# --- The prose links every example and names every op, event and code ------------------


def test_every_example_is_linked_from_the_prose():
    prose = "".join((HERE / doc).read_text() for doc in ("ops.md", "events.md", "errors.md"))
    missing = [p.name for p in EXAMPLE_FILES if f"(examples/{p.name})" not in prose]
    assert missing == []


def test_every_op_and_event_has_a_section():
    ops_md = (HERE / "ops.md").read_text()
    events_md = (HERE / "events.md").read_text()
    readme = (HERE / "README.md").read_text()
    for op in OPS:
        assert f"\n## `{op}`" in ops_md, op
        assert f"`{op}`" in readme, f"README index lacks {op}"
    for event in EVENTS:
        assert f"\n## `{event}`" in events_md, event
        assert f"`{event}`" in readme, f"README index lacks {event}"


def markdown_table(text, header):
    """The body rows of the table whose header line starts with `header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip("|").split("|")])
    return rows


def test_errors_md_lists_every_code_once():
    rows = markdown_table((HERE / "errors.md").read_text(), "| Code | Temporary |")
    codes = [row[0] for row in rows]
    assert sorted(codes) == sorted(error_codes_in_swift())
    assert len(set(codes)) == len(codes)


def json_blocks(doc):
    """Each ```json block of a Markdown file with the schema named in the
    `<!-- schema: NAME -->` comment on the line before it."""
    lines = (HERE / doc).read_text().splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() == "```json":
            marker = re.fullmatch(r"\s*<!-- schema: (\S+).*-->", lines[i - 1]) if i else None
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
            blocks.append((f"{doc}:{i + 1}", marker.group(1) if marker else None, "\n".join(lines[i + 1 : end])))
    return blocks


DOC_BLOCKS = [b for doc in ("README.md", "ops.md", "events.md", "objects.md", "errors.md", "close-codes.md") for b in json_blocks(doc)]


def test_the_prose_has_json_blocks_to_check():
    assert len(DOC_BLOCKS) >= 8


@pytest.mark.parametrize("where,schema,text", DOC_BLOCKS, ids=[b[0] for b in DOC_BLOCKS])
def test_json_in_the_prose_validates_against_the_schema_it_names(where, schema, text):
    assert schema is not None, f"{where}: a json block needs <!-- schema: NAME --> on the line before"
    frame = json.loads(text)
    if schema != "none":
        validator_for(schema).validate(frame)


def test_presence_args_the_server_accepts():
    # ops.md: `training` without an activity, and duplicate user ids (removed by the server).
    assert mutate("presence.set.command.json", "presence.set.command.json", lambda f: f["args"].pop("activity"))
    assert mutate("presence.query.command.json", "presence.query.command.json", lambda f: f["args"].update(user_ids=["u_leo"] * 100))


# --- Transcripts ----------------------------------------------------------------
# `transcripts/*.json`: sequences of commands sent back to back and the replies
# they get, which the Swift integration tests replay against a gateway. Here:
# every command is a valid command frame once its placeholders are filled in,
# and every expected reply names a command of the transcript, in order.

TRANSCRIPTS = sorted((HERE / "transcripts").glob("*.json"))


def fill(value, chat="grp_01JDQ7M3ZC", n=7):
    """Replaces `$chat` and "N"/"N+k" placeholders by a chat id and integers."""
    if isinstance(value, dict):
        return {k: fill(v, chat, n) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, chat, n) for v in value]
    if value == "$chat":
        return chat
    if isinstance(value, str) and re.fullmatch(r"N(\+\d+)?", value):
        return n + (int(value[2:]) if "+" in value else 0)
    return value


def test_there_are_transcripts():
    assert TRANSCRIPTS, "protocol/transcripts/ holds no transcript"


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.name)
def test_transcript_commands_are_valid_frames(path):
    transcript = load(path)
    assert transcript["commands"], "a transcript sends commands"
    for command in transcript["commands"]:
        frame = fill(command)
        validator_for(f"{frame['op']}.command.json").validate(frame)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.name)
def test_transcript_replies_answer_each_command_once_in_order(path):
    transcript = load(path)
    assert [r["id"] for r in transcript["replies"]] == [c["id"] for c in transcript["commands"]]


def test_transcripts_are_linked_from_the_prose():
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    for path in TRANSCRIPTS:
        assert f"transcripts/{path.name}" in readme, f"{path.name} is not linked from protocol/README.md"
