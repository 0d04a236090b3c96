"""Settings of the streaming (PyFlink) job."""

from __future__ import annotations

from dataclasses import dataclass

from im.envconfig import setting


@dataclass(frozen=True)
class StreamSettings:
    kafka_bootstrap: str = setting("IM_KAFKA_BOOTSTRAP", "127.0.0.1:19092", "Kafka brokers")
    flink_jars: str = setting(
        "IM_FLINK_JARS", "", "';'-separated file:// URLs of connector jars (pipeline.jars)"
    )
    checkpoint_dir: str = setting(
        "IM_STREAM_CHECKPOINT_DIR", "file:///tmp/im-checkpoints", "checkpoint storage URL"
    )
    checkpoint_interval_s: float = setting("IM_STREAM_CHECKPOINT_S", 10.0, "checkpoint period")
    group_id: str = setting("IM_STREAM_GROUP_ID", "im-stream", "Kafka consumer group")
    lateness_s: int = setting("IM_STREAM_LATENESS_S", 5, "watermark bound on lateness")
    count_window_s: int = setting("IM_STREAM_COUNT_WINDOW_S", 60, "message-count window")
    reply_window_s: int = setting("IM_REPLY_WINDOW_S", 300, "reply-rate window length")
    reply_within_s: int = setting("IM_REPLY_WITHIN_S", 300, "a wait answered within this")
    session_gap_s: int = setting("IM_SESSION_GAP_S", 600, "inactivity gap ending a cs session")
    flood_count: int = setting("IM_FLOOD_COUNT", 10, "flood: this many messages ...")
    flood_within_s: int = setting("IM_FLOOD_WITHIN_S", 10, "... within this many seconds")
    repeat_count: int = setting("IM_REPEAT_COUNT", 3, "repeat: same content this often ...")
    repeat_within_s: int = setting("IM_REPEAT_WITHIN_S", 60, "... within this many seconds")
    abusive_count: int = setting("IM_ABUSIVE_COUNT", 3, "abusive: flagged messages ...")
    abusive_within_s: int = setting("IM_ABUSIVE_WITHIN_S", 300, "... within this many seconds")
    mute_s: int = setting("IM_MUTE_S", 600, "how long a detection mutes")
    parallelism: int = setting("IM_STREAM_PARALLELISM", 1, "job parallelism")
    ready_file: str | None = setting("IM_STREAM_READY_FILE", None, "written once running")
