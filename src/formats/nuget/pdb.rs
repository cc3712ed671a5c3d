//! The signature a debugger asks a symbol server for a portable PDB by: the PDB id's GUID (in
//! .NET's `N` form) followed by `ffffffff` (portable PDBs have no age). The id is the first 20
//! bytes of the `#Pdb` stream of the file's ECMA-335 metadata root. Pure.

use crate::error::{Error, Result};

/// "BSJB", the metadata root's signature.
const METADATA_SIGNATURE: u32 = 0x424A_5342;

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The signature of the portable PDB whose first bytes are `head` (the `#Pdb` stream's id must
/// lie within them); `name` is for messages.
pub fn signature(name: &str, head: &[u8]) -> Result<String> {
    let refuse = || {
        Error::invalid(format!(
            "{name} is not a portable PDB (only portable PDBs are served)"
        ))
    };
    if u32_at(head, 0) != Some(METADATA_SIGNATURE) {
        return Err(refuse());
    }
    // Signature, major, minor, reserved, then the version string's padded length.
    let version_length = u32_at(head, 12).ok_or_else(refuse)? as usize;
    let mut at = 16usize.checked_add(version_length).ok_or_else(refuse)?;
    let streams = u16_at(head, at + 2).ok_or_else(refuse)?;
    at += 4;
    for _ in 0..streams {
        let offset = u32_at(head, at).ok_or_else(refuse)? as usize;
        let name_start = at + 8;
        let name_len = head
            .get(name_start..)
            .and_then(|rest| rest.iter().position(|&b| b == 0))
            .ok_or_else(refuse)?;
        if &head[name_start..name_start + name_len] == b"#Pdb" {
            let id = head.get(offset..offset + 16).ok_or_else(refuse)?;
            let data1 = u32::from_le_bytes(id[0..4].try_into().expect("4 bytes"));
            let data2 = u16::from_le_bytes(id[4..6].try_into().expect("2 bytes"));
            let data3 = u16::from_le_bytes(id[6..8].try_into().expect("2 bytes"));
            return Ok(format!(
                "{data1:08x}{data2:04x}{data3:04x}{}ffffffff",
                hex::encode(&id[8..16])
            ));
        }
        // The name is NUL-terminated and padded to a multiple of 4.
        at = name_start + (name_len + 4) / 4 * 4;
    }
    Err(refuse())
}

/// A minimal portable PDB (metadata root with a `#Pdb` stream holding `guid`), for tests.
#[cfg(test)]
pub fn minimal(guid: [u8; 16]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend(METADATA_SIGNATURE.to_le_bytes());
    bytes.extend(1u16.to_le_bytes());
    bytes.extend(1u16.to_le_bytes());
    bytes.extend(0u32.to_le_bytes());
    let version = b"PDB v1.0\0\0\0\0";
    bytes.extend((version.len() as u32).to_le_bytes());
    bytes.extend(version);
    bytes.extend(0u16.to_le_bytes());
    bytes.extend(2u16.to_le_bytes());
    // Two stream headers: "#~" then "#Pdb"; data follows them.
    let data_at = bytes.len() + 12 + 16;
    for (name, offset, size) in [
        (&b"#~\0\0"[..], data_at + 32, 0u32),
        (&b"#Pdb\0\0\0\0"[..], data_at, 32),
    ] {
        bytes.extend((offset as u32).to_le_bytes());
        bytes.extend(size.to_le_bytes());
        bytes.extend(name);
    }
    assert_eq!(bytes.len(), data_at);
    bytes.extend(guid);
    bytes.extend([0u8; 16]);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_guid_in_dotnet_order_and_no_age() {
        let guid = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        assert_eq!(
            signature("a.pdb", &minimal(guid)).unwrap(),
            "00112233445566778899aabbccddeeffffffffff"
        );
    }

    #[test]
    fn other_files_are_refused() {
        for bad in [
            &b"Microsoft C/C++ MSF 7.00\r\n"[..],
            b"",
            b"BSJB",
            &minimal([1; 16])[..60],
        ] {
            let err = signature("a.pdb", bad).unwrap_err().to_string();
            assert!(err.contains("not a portable PDB"), "{err}");
        }
    }
}
