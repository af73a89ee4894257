"""The publish: block: off by default, the law's minimums enforced, the standard's key names accepted."""
import pytest
from pydantic import ValidationError

from clipmill.publishing import PublishSettings


def test_defaults_are_off_and_meet_the_minimums():
    settings = PublishSettings()
    assert settings.enabled is False and settings.status == "off"
    assert settings.label.text == "AI生成" and settings.label.seconds >= 2.0 and settings.label.text_height >= 0.05
    assert settings.metadata.label == "1" and settings.metadata.content_producer
    assert settings.c2pa is None


def test_a_yaml_block_with_the_standards_names():
    settings = PublishSettings.model_validate({
        "enabled": True,
        "label": {"text": "AI-generated", "position": "bottom-right", "seconds": 3, "text_height": 0.08,
                  "also_at_end": True},
        "metadata": {"ContentProducer": "某某传媒有限公司", "content_propagator": "douyin"},
        "c2pa": {"cert": "certs/chain.pem", "key": "certs/key.pem"},
    })
    assert settings.label.position == "bottom-right" and settings.label.also_at_end
    assert settings.metadata.content_producer == "某某传媒有限公司"
    assert settings.metadata.content_propagator == "douyin"
    assert settings.c2pa.alg == "ES256" and settings.status == "explicit+implicit+c2pa"


@pytest.mark.parametrize("block, field", [
    ({"label": {"text_height": 0.04}}, "text_height"),
    ({"label": {"seconds": 1.5}}, "seconds"),
    ({"label": {"position": "middle"}}, "position"),
    ({"label": {"text": ""}}, "text"),
    ({"label": {"text": "AI\n生成"}}, "text"),
    ({"metadata": {"Label": "4"}}, "Label"),
    ({"lable": {}}, "lable"),
    ({"c2pa": {"cert": "c.pem"}}, "key"),
])
def test_refused(block, field):
    with pytest.raises(ValidationError, match=field):
        PublishSettings.model_validate(block)


def test_frozen_and_hashable():
    settings = PublishSettings(enabled=True)
    with pytest.raises(ValidationError):
        settings.enabled = False
    assert hash(settings.label) == hash(PublishSettings(enabled=True).label)
