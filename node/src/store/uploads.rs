//! The on-disk records of multipart uploads that a drive understands itself.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `part.N.json` in an upload's directory: one uploaded part, as the drive holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PartRecord {
    pub number: u32,
    pub size: u64,
    pub etag: String,
    pub mod_time_nanos: i64,
    /// Which upload of this part number the record belongs to: its shard file is
    /// `part.N.<data_id>`, so two uploads of one part number racing can never pair one's shards
    /// with the other's ETag. Absent only in records of older servers (shard file `part.N`).
    #[serde(default)]
    pub data_id: Option<Uuid>,
    /// The part's verified `x-amz-checksum-*`, when it carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<super::meta::StoredChecksum>,
}

impl PartRecord {
    /// File name of the record of part `number`.
    pub fn meta_name(number: u32) -> String {
        format!("part.{number}.json")
    }

    /// File name of the part's shard file in the upload's directory.
    pub fn data_file(&self) -> String {
        match self.data_id {
            Some(id) => format!("part.{}.{id}", self.number),
            None => format!("part.{}", self.number),
        }
    }
}
