"""Metrics logging: a resumed run drops what the killed process logged after its checkpoint."""

import json

from sensorimotor.utils.logging import MetricsLogger, read_metrics


def test_resume_keeps_rows_up_to_the_checkpoint_and_appends_after(tmp_path):
    logger = MetricsLogger(str(tmp_path), {})
    for step in (100, 200, 300, 400):
        logger.log(step, {"loss": step / 100})
    logger.close()  # "killed" after step 400; its last checkpoint was at 200
    logger = MetricsLogger(str(tmp_path), {}, resume_step=200)
    logger.log(300, {"loss": 30.0})
    logger.close()
    rows = read_metrics(str(tmp_path))
    assert [r["step"] for r in rows] == [100, 200, 300] and rows[-1]["loss"] == 30.0
    assert not (tmp_path / "metrics.jsonl.tmp").exists()
    MetricsLogger(str(tmp_path), {}, resume_step=300).close()  # nothing after 300: file untouched
    assert [json.loads(line)["step"] for line in open(tmp_path / "metrics.jsonl")] == [100, 200, 300]


def test_tensorboard_tags_are_grouped_and_jsonl_keeps_plain_names(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logger = MetricsLogger(str(tmp_path), {})
    logger.log(10, {"episode_return": 5.0, "steps_per_second": 100.0, "value_loss": 0.5})
    logger.close()
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert set(events.Tags()["scalars"]) == {"charts/episode_return", "time/steps_per_second", "losses/value_loss"}
    assert read_metrics(str(tmp_path))[0] == {"step": 10, "episode_return": 5.0, "steps_per_second": 100.0,
                                              "value_loss": 0.5}
