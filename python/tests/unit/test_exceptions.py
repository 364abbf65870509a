"""plait.exceptions survive the trip through the object format (cloudpickle) intact."""

from __future__ import annotations

import cloudpickle
import pytest

from plait import exceptions as exc
from plait._core.errors import error_info_for, exception_from


def _round_trip(err: BaseException) -> BaseException:
    return exception_from(error_info_for(err))


@pytest.mark.parametrize(
    "err",
    [
        exc.TaskCancelledError("ab12"),
        exc.ObjectLostError("cd34"),
        exc.OwnerDiedError("cd34", "Object cd34 is lost: its owner died."),
        exc.ActorDiedError("The actor ef56 died: killed.", "ef56"),
        exc.RayActorError("The actor died.", "ef56"),
        exc.WorkerCrashedError("The worker died."),
        exc.GetTimeoutError("Get timed out."),
    ],
)
def test_errors_keep_type_message_and_fields(err: BaseException) -> None:
    for back in (cloudpickle.loads(cloudpickle.dumps(err)), _round_trip(err)):
        assert type(back) is type(err)
        assert str(back) == str(err)
        assert back.__dict__ == err.__dict__


def test_cancelled_message_names_the_task_once() -> None:
    back = _round_trip(exc.TaskCancelledError("ab12"))
    assert str(back) == "Task ab12 was cancelled."
    assert isinstance(back, exc.TaskCancelledError) and back.task_id == "ab12"


def test_remote_error_is_also_the_cause_type() -> None:
    err = exc.RayTaskError("f", "Traceback ...\nKeyError: 'k'", KeyError("k"))
    back = _round_trip(err)
    assert isinstance(back, KeyError) and isinstance(back, exc.RayTaskError)
    assert back.args == ("k",) and "KeyError" in str(back)
