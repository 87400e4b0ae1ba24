//! Projects and API keys.

use std::sync::Arc;

use crate::store::keys::{hash_secret, ActiveKey, SECRET_PREFIX};
use crate::store::{Store, StoreError};

pub async fn keys_are_hashed_scoped_and_revocable(store: Arc<dyn Store>) {
    assert!(!store.key_table().await.unwrap().required, "no keys: open");
    let err = store.create_key("team-a", "ci").await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(_)),
        "needs the project first: {err:?}"
    );
    assert!(store.create_project("team-a").await.unwrap());
    assert!(!store.create_project("team-a").await.unwrap());
    assert!(store.create_project("équipe b").await.unwrap());
    assert_eq!(
        store.list_projects().await.unwrap(),
        vec!["team-a", "équipe b"]
    );

    let a = store.create_key("team-a", "ci").await.unwrap();
    let b = store.create_key("équipe b", "").await.unwrap();
    assert!(a.secret.starts_with(SECRET_PREFIX));
    // The public id tells nothing of the secret.
    let random = &a.secret[SECRET_PREFIX.len()..];
    assert!(
        !random.contains(a.info.id.trim_start_matches("key_")),
        "{a:?}"
    );
    let table = store.key_table().await.unwrap();
    assert!(table.required);
    let mut active = table.active.clone();
    active.sort();
    let mut expected = vec![
        ActiveKey::new(
            hash_secret(&a.secret),
            "team-a".into(),
            &a.info.id,
            &a.info.label,
        ),
        ActiveKey::new(
            hash_secret(&b.secret),
            "équipe b".into(),
            &b.info.id,
            &b.info.label,
        ),
    ];
    expected.sort();
    assert_eq!(active, expected);
    assert!(table
        .active
        .iter()
        .all(|k| k.secret_sha256 != a.secret && k.secret_sha256 != b.secret));

    assert!(store.revoke_key(&a.info.id).await.unwrap());
    assert!(!store.revoke_key(&a.info.id).await.unwrap());
    assert!(store.revoke_key(&b.info.id).await.unwrap());
    let table = store.key_table().await.unwrap();
    assert!(table.active.is_empty());
    assert!(
        table.required,
        "revoking the last key must not open Skein up"
    );
    let listed = store.list_keys().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|k| k.revoked));

    // Keys move between stores as their hashes: an imported key answers to its secret.
    let exported = store.export_keys().await.unwrap();
    assert_eq!(exported.len(), 2);
    assert!(exported.iter().all(|k| k.revoked_ms.is_some()));
    let mut moved = exported[0].clone();
    moved.info.id = "key_imported01".into();
    moved.secret_sha256 = hash_secret("skein_moved");
    moved.revoked_ms = None;
    moved.info.revoked = false;
    store.import_key(moved.clone()).await.unwrap();
    store.import_key(moved.clone()).await.unwrap();
    let table = store.key_table().await.unwrap();
    assert_eq!(
        table.active,
        vec![ActiveKey::new(
            hash_secret("skein_moved"),
            moved.info.project.clone(),
            &moved.info.id,
            &moved.info.label
        )]
    );
    assert_eq!(store.export_keys().await.unwrap().len(), 3);
}

pub async fn a_registered_project_keeps_its_creation_time(store: Arc<dyn Store>) {
    let before = now_ms();
    assert_eq!(store.project_created_ms("new-project").await.unwrap(), None);
    assert!(store.create_project("new-project").await.unwrap());
    let created = store
        .project_created_ms("new-project")
        .await
        .unwrap()
        .expect("registered");
    let after = now_ms();
    assert!(
        (before..=after).contains(&created),
        "{before} {created} {after}"
    );
    // Registering again changes nothing.
    assert!(!store.create_project("new-project").await.unwrap());
    assert_eq!(
        store.project_created_ms("new-project").await.unwrap(),
        Some(created)
    );
    assert_eq!(store.project_created_ms("other").await.unwrap(), None);
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
