"""The wire codec: lossless round trip, and a clear MessageError for every malformed input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from electorate.impl.messages import (
    AppendEntries,
    AppendEntriesResponse,
    Message,
    MessageError,
    RequestVote,
    RequestVoteResponse,
    TimeoutNow,
    decode_message,
    encode_message,
)

ids = st.text(min_size=1, max_size=8)
nat = st.integers(min_value=0, max_value=2**63)
env = {"cluster": ids, "src": ids, "dst": ids, "term": nat}
messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(
        RequestVote,
        **env,
        last_log_index=nat,
        last_log_term=nat,
        pre_vote=st.booleans(),
        transfer=st.booleans(),
    ),
    st.builds(RequestVoteResponse, **env, granted=st.booleans(), pre_vote=st.booleans()),
    st.builds(AppendEntries, **env, leader_commit=nat, round=nat),
    st.builds(AppendEntriesResponse, **env, success=st.booleans(), round=nat),
    st.builds(TimeoutNow, **env),
)

GOOD = encode_message(RequestVote("c", "a", "b", 3, 0, 0, True))


@settings(derandomize=True, max_examples=150, deadline=None)
@given(messages)
def test_round_trip_through_json(m: Message) -> None:
    assert decode_message(json.loads(json.dumps(encode_message(m)))) == m


def test_type_names_are_the_documented_ones() -> None:
    samples: list[Message] = [
        RequestVote("c", "a", "b", 1, 0, 0, False),
        RequestVoteResponse("c", "a", "b", 1, True, False),
        AppendEntries("c", "a", "b", 1, 0, 1),
        AppendEntriesResponse("c", "a", "b", 1, True, 1),
        TimeoutNow("c", "a", "b", 1),
    ]
    names = [encode_message(m)["type"] for m in samples]
    assert names == [
        "request_vote",
        "request_vote_res",
        "append_entries",
        "append_entries_res",
        "timeout_now",
    ]


def test_defaulted_field_may_be_omitted() -> None:
    d = dict(GOOD)
    del d["transfer"]
    assert decode_message(d) == RequestVote("c", "a", "b", 3, 0, 0, True, False)


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ([1, 2], "JSON object"),
        ({"term": 1}, "unknown message type None"),
        (GOOD | {"type": "vote"}, "unknown message type 'vote'"),
        ({k: v for k, v in GOOD.items() if k != "term"}, "missing field 'term'"),
        (GOOD | {"extra": 1}, "unexpected field"),
        (GOOD | {"term": -1}, "'term' is outside uint64"),
        (GOOD | {"term": 2**64}, "'term' is outside uint64"),
        (GOOD | {"last_log_index": 10**4299}, "'last_log_index' is outside uint64"),
        (GOOD | {"term": "3"}, "'term' must be an integer"),
        (GOOD | {"term": True}, "'term' must be an integer"),
        (GOOD | {"term": 1.0}, "'term' must be an integer"),
        (GOOD | {"pre_vote": 1}, "'pre_vote' must be a boolean"),
        (GOOD | {"src": ""}, "'src' must be a string of 1-64 characters"),
        (GOOD | {"dst": None}, "'dst' must be a string of 1-64 characters"),
        (GOOD | {"cluster": "x" * 65}, "'cluster' must be a string of 1-64 characters"),
    ],
)
def test_malformed_input_is_a_one_line_message_error(bad: object, needle: str) -> None:
    with pytest.raises(MessageError) as e:
        decode_message(bad)
    assert needle in str(e.value) and "\n" not in str(e.value)
    assert isinstance(e.value, ValueError)


def test_the_largest_uint64_term_still_decodes() -> None:
    assert decode_message(GOOD | {"term": 2**64 - 1}).term == 2**64 - 1
