"""Errors cross process boundaries whole: a Modal container's BadInput fails the job as bad
input in the worker that spawned it, with the field it names (Modal pickles exceptions)."""

from __future__ import annotations

import pickle

import pytest

from pipeline.errors import BadInput, BriefError, QCError, ReelforgeError
from pipeline.providers.errors import ProviderRejected
from pipeline.storage import BlobNotFound
from pipeline.store.errors import StoreUnavailable
from pipeline.worker.control import JobAborted


@pytest.mark.parametrize(
    "error",
    [
        BadInput("product.photos[0]", "is not an image"),
        BriefError("brand.logo", "is missing"),
        QCError("loudness", "-9 LUFS is louder than -14"),
        ProviderRejected("kling", "prompt refused", status=400, retry_after=3.0),
        BlobNotFound("get", "u/uploads/x.png"),
        StoreUnavailable("the database refused the connection"),
        JobAborted("canceled"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_error_survives_pickling_with_its_class_and_fields(error: ReelforgeError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert vars(back) == vars(error)


def test_bad_input_keeps_the_field_it_names() -> None:
    back = pickle.loads(pickle.dumps(BadInput("product.photos[0]", "is not an image")))
    assert (back.where, back.problem) == ("product.photos[0]", "is not an image")
