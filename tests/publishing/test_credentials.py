"""C2PA content credentials: sign with a throwaway CA-issued certificate, read the manifest back."""
import datetime
import shutil

import numpy as np
import pytest

from clipmill.media import encode_mp4, probe, read_video
from clipmill.publishing import (
    CredentialsError,
    PublishSettings,
    aigc_metadata,
    aigc_tags,
    clip_manifest,
    read_aigc,
    read_c2pa,
    sign_c2pa,
)
from clipmill.publishing.credentials import RECORD_ASSERTION, TRAINED_ALGORITHMIC_MEDIA

pytest.importorskip("c2pa", reason="c2pa-python not installed (pip install 'clipmill[c2pa]')")
pytest.importorskip("cryptography", reason="the throwaway certificate is made with cryptography")
pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")


def _name(common_name):
    from cryptography.x509.oid import NameOID
    from cryptography import x509

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "clipmill tests")])


def make_signing_files(folder):
    """A test CA and an ES256 signing certificate it issued (C2PA refuses self-signed signers)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = datetime.datetime.now(datetime.timezone.utc)
    usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
                 encipher_only=False, decipher_only=False)

    def build(subject, issuer, public_key):
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (build(_name("clipmill test CA"), _name("clipmill test CA"), ca_key.public_key())
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **usage), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (build(_name("clipmill test signer"), ca.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert, key_file = folder / "chain.pem", folder / "key.pem"
    cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert, key_file


@pytest.fixture(scope="module")
def signing_files(tmp_path_factory):
    return make_signing_files(tmp_path_factory.mktemp("c2pa"))


def clip(path, aigc=None):
    frames = np.random.default_rng(1).integers(0, 255, (9, 64, 96, 3), dtype=np.uint8)
    return encode_mp4(frames, path, fps=8, metadata=aigc_tags(aigc) if aigc else None)


def test_round_trip(tmp_path, signing_files):
    cert, key = signing_files
    aigc = aigc_metadata(PublishSettings(enabled=True), "pid-1")
    path = clip(tmp_path / "clip.mp4", aigc)
    manifest = clip_manifest(title="clip.mp4", model="wan2.2-ti2v-5b", produce_id="pid-1",
                             record={"batch": "b1", "job": "j1", "attempt": 2, "seed": 42})
    assert sign_c2pa(path, manifest, cert, key) == path
    found = read_c2pa(path)
    assert found is not None and found.validation_state in ("Valid", "Trusted")
    assert found.manifest["title"] == "clip.mp4"
    assert found.manifest["claim_generator_info"][0]["name"] == "clipmill"
    action = found.assertion("c2pa.actions")["actions"][0]
    assert action["action"] == "c2pa.created" and action["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert found.assertion(RECORD_ASSERTION) == {"batch": "b1", "job": "j1", "attempt": 2, "seed": 42,
                                                 "model": "wan2.2-ti2v-5b", "produce_id": "pid-1"}
    assert found.manifest["signature_info"]["common_name"] == "clipmill test signer"
    # the signed file is still the clip, with its AIGC tag, and still starts playing before it has downloaded
    assert read_aigc(path) == aigc and probe(path).frames == 9 and read_video(path)[0].shape == (9, 64, 96, 3)
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")


def test_tampering_is_detected(tmp_path, signing_files):
    path = clip(tmp_path / "clip.mp4")
    sign_c2pa(path, clip_manifest(title="t", model="tiny", record={}), *signing_files)
    data = bytearray(path.read_bytes())
    at = data.find(b"mdat") + 64
    data[at:at + 16] = bytes(16)
    path.write_bytes(bytes(data))
    found = read_c2pa(path)
    assert found.validation_state == "Invalid" and any("mismatch" in code for code in found.problems)


def test_unsigned_file_and_bad_credentials(tmp_path, signing_files):
    path = clip(tmp_path / "clip.mp4")
    assert read_c2pa(path) is None
    cert, key = signing_files
    with pytest.raises(CredentialsError, match="not found"):
        sign_c2pa(path, clip_manifest(title="t", model="m", record={}), tmp_path / "none.pem", key)
    with pytest.raises(CredentialsError, match="failed"):
        sign_c2pa(path, clip_manifest(title="t", model="m", record={}), key, key)  # a key where the cert goes
    assert read_c2pa(path) is None, "a failed signing left the file changed"
