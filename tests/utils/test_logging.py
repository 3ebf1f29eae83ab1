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
