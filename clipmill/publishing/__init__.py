"""Publishing: the labels a synthetic clip must carry, and the manifest an upload tool reads.

    from clipmill.publishing import PublishSettings, encode_published

    labels = encode_published(frames, "clip.mp4", fps=16, settings=PublishSettings(enabled=True))
    labels.produce_id, labels.status  # record them with the attempt

Inside: `settings` (the spec's `publish:` block), `label` (the visible label), `aigc` (GB
45438-2025's AIGC metadata tag), `credentials` (optional C2PA), `encode` (all of it in one
call), `manifest` (the batch's CSV and JSON).
"""
from clipmill.publishing.aigc import AIGC_FIELDS, AIGC_TAG, aigc_metadata, aigc_tags, new_produce_id, read_aigc
from clipmill.publishing.credentials import (
    Credentials,
    CredentialsError,
    c2pa_available,
    clip_manifest,
    read_c2pa,
    sign_c2pa,
)
from clipmill.publishing.encode import PublishedLabels, check_publish_settings, encode_published
from clipmill.publishing.label import (
    CJK_FONT_PACKAGE,
    LabelError,
    burn_label,
    check_label_font,
    find_label_font,
    label_frame_indices,
    opening_frames,
    render_label,
)
from clipmill.publishing.manifest import (
    LABEL_STATUSES,
    PublishRow,
    hashtags,
    publish_manifest,
    title_and_description,
    write_publish_manifest,
)
from clipmill.publishing.settings import AIGCSettings, C2PASettings, LabelSettings, LabelStatus, PublishSettings

__all__ = [
    "AIGCSettings", "AIGC_FIELDS", "AIGC_TAG", "C2PASettings", "CJK_FONT_PACKAGE", "Credentials", "CredentialsError",
    "LABEL_STATUSES", "LabelError", "LabelSettings", "LabelStatus", "PublishRow", "PublishSettings", "PublishedLabels",
    "aigc_metadata", "aigc_tags", "burn_label", "c2pa_available", "check_label_font", "check_publish_settings",
    "clip_manifest",
    "encode_published", "find_label_font", "hashtags", "label_frame_indices", "new_produce_id", "opening_frames",
    "publish_manifest", "read_aigc", "read_c2pa", "render_label", "sign_c2pa", "title_and_description",
    "write_publish_manifest",
]
