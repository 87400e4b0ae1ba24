//! Stream tickets: an EventSource cannot send an API key, so the dashboard first asks, with its
//! key, for a ticket (`POST /api/v1/stream/ticket`) and opens the stream with it in the URL. A
//! ticket names one project and expires within a minute; it is signed with the key's stored
//! hash (HMAC-SHA256), so any collector on the same store checks it, and revoking the key
//! voids it. It opens live streams only.

use sha2::{Digest, Sha256};

/// How long a ticket opens streams.
pub const TICKET_TTL_SECS: i64 = 60;

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn mac(key_hash: &str, project: &str, expires: i64) -> String {
    let message = format!("skein-stream\n{project}\n{expires}");
    hmac(key_hash.as_bytes(), message.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A ticket for `project`, signed with the hash of the key that asked, valid until `expires`
/// (Unix seconds).
pub fn sign(key_hash: &str, project: &str, expires: i64) -> String {
    format!("{expires}.{}", mac(key_hash, project, expires))
}

/// Whether `ticket` was signed with `key_hash` for `project` and is still valid at `now`.
pub fn verify(key_hash: &str, project: &str, ticket: &str, now: i64) -> bool {
    let Some((expires, given)) = ticket.split_once('.') else {
        return false;
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return false;
    };
    if expires < now || expires > now + TICKET_TTL_SECS {
        return false;
    }
    let want = mac(key_hash, project, expires);
    // Compared in full whatever differs first.
    want.len() == given.len()
        && want
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_is_rfc_4231s() {
        // RFC 4231, test case 2.
        let got = hmac(b"Jefe", b"what do ya want for nothing?");
        let hex: String = got.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_ticket_opens_its_project_for_its_key_until_it_expires() {
        let ticket = sign("hash-a", "alpha", 1_060);
        assert!(verify("hash-a", "alpha", &ticket, 1_000));
        assert!(verify("hash-a", "alpha", &ticket, 1_060));
        assert!(!verify("hash-a", "alpha", &ticket, 1_061), "expired");
        assert!(!verify("hash-a", "beta", &ticket, 1_000), "another project");
        assert!(!verify("hash-b", "alpha", &ticket, 1_000), "another key");
        let forged = format!("9999999999.{}", ticket.split_once('.').unwrap().1);
        assert!(
            !verify("hash-a", "alpha", &forged, 1_000),
            "a changed expiry"
        );
        assert!(!verify("hash-a", "alpha", "junk", 1_000));
        let far = sign("hash-a", "alpha", 100_000);
        assert!(
            !verify("hash-a", "alpha", &far, 1_000),
            "longer than a ticket lives"
        );
    }
}
