//! Which of a query's traces a new queue takes.

/// A random sample of `size` of `candidates` (each an id and its value of the balancing tag),
/// in random order, drawn with `seed`. Balanced (`balanced`), it takes as many of each tag
/// value as the rarest value has, and no more than `size` in all (split evenly, the values
/// taking turns), leaving out candidates without a value; otherwise it takes any `size`.
pub fn sample_items(
    candidates: Vec<(String, Option<String>)>,
    size: usize,
    balanced: bool,
    seed: u64,
) -> Vec<String> {
    let mut rng = crate::random::SplitMix::new(seed);
    if !balanced {
        let mut ids: Vec<String> = candidates.into_iter().map(|(id, _)| id).collect();
        rng.shuffle(&mut ids);
        ids.truncate(size);
        return ids;
    }
    let mut groups: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (id, value) in candidates {
        if let Some(value) = value {
            groups.entry(value).or_default().push(id);
        }
    }
    if groups.is_empty() {
        return Vec::new();
    }
    let rarest = groups.values().map(Vec::len).min().unwrap_or(0);
    let per_value = rarest.min(size / groups.len());
    let mut picked = Vec::with_capacity(per_value * groups.len());
    for ids in groups.values_mut() {
        rng.shuffle(ids);
        picked.extend(ids.drain(..per_value));
    }
    rng.shuffle(&mut picked);
    picked
}
