//! A model folder's manifest and the checks that its files are the ones it names
//! (sizes, then sha256). Needs no tract: the page verifies a download before the
//! engine parses a byte of it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::ModelError;

/// The manifest's `format` value this build reads.
pub const MANIFEST_FORMAT: &str = "principle-checker-model/1";

/// The part of `manifest.json` that describes the network's shape.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Architecture {
    pub layers: usize,
    pub hidden: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    /// Feed-forward width (for FLOP counts).
    #[serde(default)]
    pub ffn: usize,
    pub vocab: usize,
    pub context_length: usize,
    #[serde(default)]
    pub rms_eps: f64,
    #[serde(default)]
    pub rope_base: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TokenInfo {
    pub bos: u32,
    pub eos: u32,
    #[serde(default)]
    pub special: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    pub name: String,
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub source: serde_json::Value,
    #[serde(default)]
    pub converter: serde_json::Value,
    pub architecture: Architecture,
    pub tokens: TokenInfo,
    pub files: std::collections::BTreeMap<String, FileEntry>,
}

impl Manifest {
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, ModelError> {
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| ModelError::Manifest(e.to_string()))?;
        if m.format != MANIFEST_FORMAT {
            return Err(ModelError::UnsupportedFormat {
                found: m.format,
                expected: MANIFEST_FORMAT,
            });
        }
        for f in [MODEL_FILE, TOKENIZER_FILE] {
            if !m.files.contains_key(f) {
                return Err(ModelError::Manifest(format!("it lists no {f}")));
            }
        }
        Ok(m)
    }

    /// Checks a file's bytes against the manifest; the size first, because a truncated
    /// download is the common case and deserves the plainer message.
    pub fn verify(&self, file: &str, bytes: &[u8]) -> Result<(), ModelError> {
        self.verify_digest(file, bytes, || sha256_hex(bytes))
    }

    /// [`Manifest::verify`] with a digest the caller computed over these very bytes:
    /// the browser's WebCrypto hashes 98 MB in a tenth of the time wasm takes.
    pub fn verify_digest(
        &self,
        file: &str,
        bytes: &[u8],
        digest: impl FnOnce() -> String,
    ) -> Result<(), ModelError> {
        let entry = self
            .files
            .get(file)
            .ok_or_else(|| ModelError::Manifest(format!("it lists no {file}")))?;
        if entry.bytes != bytes.len() as u64 {
            return Err(ModelError::SizeMismatch {
                file: file.into(),
                expected: entry.bytes,
                actual: bytes.len() as u64,
            });
        }
        let actual = digest();
        if !actual.eq_ignore_ascii_case(&entry.sha256) {
            return Err(ModelError::ChecksumMismatch {
                file: file.into(),
                expected: entry.sha256.clone(),
                actual,
            });
        }
        Ok(())
    }
}

/// The text a memory estimate makes room for: a conversation and two replies of a few
/// hundred words, the usual check. Longer texts need more (a cache row per token).
pub const ESTIMATE_TOKENS: u64 = 1024;

impl Architecture {
    /// One decoder layer's matrices in f32 (attention and feed-forward).
    pub fn layer_f32_bytes(&self) -> u64 {
        let (h, q, kv, f) = (
            self.hidden as u64,
            (self.heads * self.head_dim) as u64,
            (self.kv_heads * self.head_dim) as u64,
            self.ffn as u64,
        );
        4 * (2 * h * q + 2 * h * kv + 3 * h * f)
    }

    /// One token's keys and values in every layer, f32.
    pub fn cache_bytes_per_token(&self) -> u64 {
        4 * 2 * (self.layers * self.kv_heads * self.head_dim) as u64
    }
}

impl Manifest {
    /// About how much memory a browser tab must give the engine to load this model and
    /// run a check of [`ESTIMATE_TOKENS`] tokens with the trained head. Known before
    /// the download, so the page can say it and refuse early where it cannot be had;
    /// the page's end-to-end test holds the engine's real memory to it.
    ///
    /// Why these terms: while the model is parsed, its file is held twice (the bytes
    /// and the parsed copy, whose blocks stay); a pass decodes one layer's weights at
    /// a time, which tract packs again; every token adds its cache rows; the
    /// tokenizer parses to several times its file. A page's memory only grows, so
    /// what a pass needs counts even where the parse left room for it. The whole
    /// decoder, built only for the reasoning or the zero-shot prompt, expands every
    /// weight and needs more than this.
    pub fn memory_needed(&self) -> u64 {
        let file = |name: &str| self.files.get(name).map_or(0, |f| f.bytes);
        let arch = &self.architecture;
        2 * file(MODEL_FILE)
            + 2 * arch.layer_f32_bytes()
            + ESTIMATE_TOKENS * arch.cache_bytes_per_token()
            + 10 * file(TOKENIZER_FILE)
            + (16 << 20)
    }
}

pub const MANIFEST_FILE: &str = "manifest.json";
pub const MODEL_FILE: &str = "model.onnx";
pub const TOKENIZER_FILE: &str = "tokenizer.json";

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The three files of a model folder, checked against the manifest.
pub struct ModelFiles {
    pub manifest: Manifest,
    pub onnx: Vec<u8>,
    pub tokenizer: Vec<u8>,
}

impl ModelFiles {
    pub fn from_bytes(
        manifest: &[u8],
        onnx: Vec<u8>,
        tokenizer: Vec<u8>,
    ) -> Result<ModelFiles, ModelError> {
        let manifest = Manifest::from_json(manifest)?;
        manifest.verify(TOKENIZER_FILE, &tokenizer)?;
        manifest.verify(MODEL_FILE, &onnx)?;
        Ok(ModelFiles {
            manifest,
            onnx,
            tokenizer,
        })
    }

    /// [`ModelFiles::from_bytes`] for bytes the caller has already hashed: each
    /// digest (hex sha256 of that file's bytes) is checked against the manifest
    /// instead of hashing again.
    pub fn from_hashed_bytes(
        manifest: &[u8],
        onnx: Vec<u8>,
        onnx_sha256: &str,
        tokenizer: Vec<u8>,
        tokenizer_sha256: &str,
    ) -> Result<ModelFiles, ModelError> {
        let manifest = Manifest::from_json(manifest)?;
        manifest.verify_digest(TOKENIZER_FILE, &tokenizer, || tokenizer_sha256.into())?;
        manifest.verify_digest(MODEL_FILE, &onnx, || onnx_sha256.into())?;
        Ok(ModelFiles {
            manifest,
            onnx,
            tokenizer,
        })
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_dir(dir: &std::path::Path) -> Result<ModelFiles, ModelError> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read(&p).map_err(|e| ModelError::Io {
                file: p.display().to_string(),
                reason: e.to_string(),
            })
        };
        ModelFiles::from_bytes(
            &read(MANIFEST_FILE)?,
            read(MODEL_FILE)?,
            read(TOKENIZER_FILE)?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The estimate's terms by hand, on a toy shape: the file twice, two layers of f32
    /// weights, a cache row per token in every layer, ten tokenizer files, 16 MiB.
    #[test]
    fn the_memory_estimate_adds_its_terms() {
        let m = Manifest::from_json(
            br#"{"format": "principle-checker-model/1", "name": "toy",
                 "architecture": {"layers": 2, "hidden": 8, "heads": 2, "kv_heads": 1,
                                  "head_dim": 4, "ffn": 16, "vocab": 10, "context_length": 64},
                 "tokens": {"bos": 0, "eos": 1},
                 "files": {"model.onnx": {"sha256": "", "bytes": 1000},
                           "tokenizer.json": {"sha256": "", "bytes": 100}}}"#,
        )
        .unwrap();
        let arch = &m.architecture;
        assert_eq!(
            arch.layer_f32_bytes(),
            4 * (2 * 8 * 8 + 2 * 8 * 4 + 3 * 8 * 16)
        );
        assert_eq!(arch.cache_bytes_per_token(), 4 * 2 * 2 * 4);
        assert_eq!(
            m.memory_needed(),
            2 * 1000 + 2 * 2304 + 1024 * 64 + 10 * 100 + 16 * 1024 * 1024
        );
    }
}
