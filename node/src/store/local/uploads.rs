//! Multipart upload staging on a local drive: `.rustfs.sys/multipart/<bucket>/<upload id>/`
//! holds `upload.json`, and per part its record `part.N.json` and shard file `part.N.<data id>`.
//! The object layer serialises the part commits of one upload under its upload lock.

use super::durable::rename_durable;
use super::paths::{Fs, UPLOAD_FILE};
use crate::store::uploads::PartRecord;
use crate::store::{DriveError, DriveResult};
use std::fs;
use std::io;
use uuid::Uuid;

impl Fs {
    pub fn write_upload(&self, bucket: &str, id: Uuid, meta: &[u8]) -> DriveResult<()> {
        self.check_bucket(bucket)?;
        self.write_atomic(&self.upload(bucket, id)?.join(UPLOAD_FILE), meta)
    }

    pub fn read_upload(&self, bucket: &str, id: Uuid) -> DriveResult<Vec<u8>> {
        fs::read(self.upload(bucket, id)?.join(UPLOAD_FILE)).map_err(|e| self.err(e))
    }

    pub fn list_uploads(&self, bucket: &str) -> DriveResult<Vec<Vec<u8>>> {
        let dir = self.uploads(bucket)?;
        let names = match self.read_dir_names(&dir) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.err(e)),
        };
        Ok(names
            .into_iter()
            .filter(|(n, d)| *d && Uuid::parse_str(n).is_ok())
            .filter_map(|(n, _)| fs::read(dir.join(n).join(UPLOAD_FILE)).ok())
            .collect())
    }

    /// Moves the shard file written under `tmp/<tmp_id>/part` into the upload as `part`'s data,
    /// then records it; the shard file of an earlier upload of the same part number goes.
    pub fn commit_part(
        &self,
        bucket: &str,
        id: Uuid,
        part: &PartRecord,
        tmp_id: Uuid,
    ) -> DriveResult<()> {
        let up = self.upload(bucket, id)?;
        let run = || -> DriveResult<()> {
            if !up.join(UPLOAD_FILE).exists() {
                return Err(DriveError::NotFound);
            }
            let record = up.join(PartRecord::meta_name(part.number));
            let previous: Option<PartRecord> = fs::read(&record)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            rename_durable(&self.tmp(tmp_id).join("part"), &up.join(part.data_file()))
                .map_err(|e| self.err(e))?;
            let json = serde_json::to_vec(part).expect("part records serialize");
            self.write_atomic(&record, &json)?;
            if let Some(prev) = previous.filter(|p| p.data_file() != part.data_file()) {
                let _ = fs::remove_file(up.join(prev.data_file()));
            }
            Ok(())
        };
        let r = run();
        let _ = fs::remove_dir_all(self.tmp(tmp_id));
        r
    }

    pub fn list_parts(&self, bucket: &str, id: Uuid) -> DriveResult<Vec<PartRecord>> {
        let up = self.upload(bucket, id)?;
        let names = self.read_dir_names(&up).map_err(|e| self.err(e))?;
        Ok(names
            .into_iter()
            .filter(|(n, d)| !d && n.starts_with("part.") && n.ends_with(".json"))
            .filter_map(|(n, _)| fs::read(up.join(n)).ok())
            .filter_map(|b| serde_json::from_slice(&b).ok())
            .collect())
    }

    pub fn delete_upload(&self, bucket: &str, id: Uuid) -> DriveResult<()> {
        match fs::remove_dir_all(self.upload(bucket, id)?) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(DriveError::NotFound),
            Err(e) => Err(self.err(e)),
            Ok(()) => Ok(()),
        }
    }
}
