"""make_store: local folder by default, Supabase only when both of its settings are given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pipeline.errors import BadInput
from pipeline.storage import DEFAULT_BUCKET, LocalFolderStore, make_store
from pipeline.storage.supabase import SupabaseStore
from tests.storage.conftest import SECRET, SERVICE_KEY, SUPABASE_URL


def test_without_supabase_settings_the_store_is_a_local_folder(tmp_path: Path) -> None:
    store = make_store(local_root=tmp_path / "media", url_secret=SECRET)
    assert isinstance(store, LocalFolderStore)
    assert store.root == (tmp_path / "media").resolve()


def test_blank_supabase_settings_count_as_unset(tmp_path: Path) -> None:
    store = make_store(
        local_root=tmp_path, url_secret=SECRET, supabase_url=" ", supabase_service_role_key=""
    )
    assert isinstance(store, LocalFolderStore)


def test_the_local_store_needs_a_url_secret(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="url_secret"):
        make_store(local_root=tmp_path)


@pytest.mark.parametrize(
    ("url", "key", "missing"),
    [(SUPABASE_URL, None, "SUPABASE_SERVICE_ROLE_KEY"), (None, SERVICE_KEY, "SUPABASE_URL")],
)
def test_half_a_supabase_configuration_is_bad_input(
    tmp_path: Path, url: str | None, key: str | None, missing: str
) -> None:
    with pytest.raises(BadInput, match=missing):
        make_store(
            local_root=tmp_path,
            url_secret=SECRET,
            supabase_url=url,
            supabase_service_role_key=key,
        )


def test_with_both_supabase_settings_the_store_is_supabase_through_the_given_client(
    tmp_path: Path,
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        store = make_store(
            local_root=tmp_path,
            supabase_url=SUPABASE_URL,
            supabase_service_role_key=SERVICE_KEY,
            http_client=http,
        )
        assert isinstance(store, SupabaseStore)
        assert store.bucket == DEFAULT_BUCKET
        assert seen == []
        store.delete("renders/u/j/9x16.mp4")
    assert [r.url.path for r in seen] == [f"/storage/v1/object/{DEFAULT_BUCKET}"]


def test_importing_the_package_does_not_import_supabase() -> None:
    code = "import sys, pipeline.storage; sys.exit('supabase' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2])
    assert result.returncode == 0


def test_supabase_store_is_reachable_from_the_package() -> None:
    import pipeline.storage

    assert pipeline.storage.SupabaseStore is SupabaseStore
