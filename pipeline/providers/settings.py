"""Which provider each stage uses and the keys to call them, from the environment.

Keys use each provider's own conventional variable name (``OPENROUTER_API_KEY``, ``FAL_KEY``, …),
so a Modal secret or a ``.env`` made for their SDKs works as is. A stage's provider comes from the
brief (``providers:``) first, then ``REELFORGE_<STAGE>_PROVIDER``, then "offline" when no key is set.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ProviderSettings"]


class ProviderSettings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    # keys
    openrouter_api_key: SecretStr | None = Field(
        default=None, validation_alias="OPENROUTER_API_KEY"
    )
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    gemini_api_key: SecretStr | None = Field(default=None, validation_alias="GEMINI_API_KEY")
    kling_access_key: SecretStr | None = Field(default=None, validation_alias="KLING_ACCESS_KEY")
    kling_secret_key: SecretStr | None = Field(default=None, validation_alias="KLING_SECRET_KEY")
    fal_key: SecretStr | None = Field(default=None, validation_alias="FAL_KEY")
    elevenlabs_api_key: SecretStr | None = Field(
        default=None, validation_alias="ELEVENLABS_API_KEY"
    )
    pexels_api_key: SecretStr | None = Field(default=None, validation_alias="PEXELS_API_KEY")
    heygen_api_key: SecretStr | None = Field(default=None, validation_alias="HEYGEN_API_KEY")

    # stage choices (None: the brief's, else the first configured, else offline)
    script_provider: str | None = Field(default=None, validation_alias="REELFORGE_SCRIPT_PROVIDER")
    clip_provider: str | None = Field(default=None, validation_alias="REELFORGE_CLIP_PROVIDER")
    voice_provider: str | None = Field(default=None, validation_alias="REELFORGE_VOICE_PROVIDER")

    # models (None: the adapter's default)
    script_model: str | None = Field(default=None, validation_alias="REELFORGE_SCRIPT_MODEL")
    clip_model: str | None = Field(default=None, validation_alias="REELFORGE_CLIP_MODEL")
    image_model: str | None = Field(default=None, validation_alias="REELFORGE_IMAGE_MODEL")
    voice_model: str | None = Field(default=None, validation_alias="REELFORGE_VOICE_MODEL")
    # ElevenLabs voice id per brand locale, "en=21m00Tcm4TlvDq8ikWAM,it=…"; None: the default voice
    elevenlabs_voices: str | None = Field(
        default=None, validation_alias="REELFORGE_ELEVENLABS_VOICES"
    )

    # the HeyGen presenter's avatar and text-to-speech voice (ids from `GET /v2/avatars`, `/v2/voices`)
    heygen_avatar_id: str | None = Field(default=None, validation_alias="HEYGEN_AVATAR_ID")
    heygen_voice_id: str | None = Field(default=None, validation_alias="HEYGEN_VOICE_ID")

    # where providers can call back (the service's public base URL); None: poll only
    callback_base_url: str | None = Field(default=None, validation_alias="REELFORGE_PUBLIC_URL")
    cache_dir: Path | None = Field(default=None, validation_alias="REELFORGE_PROVIDER_CACHE")

    def key(self, name: str) -> str | None:
        """The key named ``name`` (field name without ``_api_key``/``_key``), if set and not blank."""
        for field in (f"{name}_api_key", f"{name}_key"):
            value = getattr(self, field, None)
            if isinstance(value, SecretStr) and value.get_secret_value().strip():
                return value.get_secret_value().strip()
        return None
