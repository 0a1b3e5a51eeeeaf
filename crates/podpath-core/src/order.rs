//! Sorting through one instantiation of the standard library's sort.
//!
//! `slice::sort_by` is generic over the element and the comparison, and each
//! pair compiles to its own copy of the stable sort (about eight functions,
//! 4 KB of Wasm). Forty call sites made 140 KB of the page's code. Here the
//! standard sort runs once, on indexes, through a `dyn` comparison; each
//! caller only pays for moving its elements into the order found. The result
//! is the stable sort's: equal elements keep their order.
//!
//! The CLI and the page both sort through these functions (clippy's
//! `disallowed-methods` in clippy.toml keeps it so).

use std::cmp::Ordering;

/// Sorts `v` by `cmp`, stably.
pub fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let order = {
        let items: &[T] = v;
        permutation(items.len(), &mut |a, b| cmp(&items[a], &items[b]))
    };
    apply(v, order);
}

/// Sorts `v` in its natural order, stably.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// Sorts `v` by the key `f` gives each element, stably.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut f: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| f(a).cmp(&f(b)));
}

/// Sorts `v` by a key computed once per element, stably.
pub fn sort_by_cached_key<T, K: Ord>(v: &mut [T], f: impl FnMut(&T) -> K) {
    let keys: Vec<K> = v.iter().map(f).collect();
    let order = permutation(keys.len(), &mut |a, b| keys[a].cmp(&keys[b]));
    apply(v, order);
}

/// The stable order of `0..n` under `cmp`: the one place the standard
/// library's sort is instantiated.
#[allow(clippy::disallowed_methods)]
fn permutation(n: usize, cmp: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

/// Moves `v[order[i]]` to `i`, following each cycle of the permutation once.
fn apply<T>(v: &mut [T], mut order: Vec<usize>) {
    const DONE: usize = usize::MAX;
    for start in 0..v.len() {
        if order[start] == DONE {
            continue;
        }
        let mut at = start;
        loop {
            let from = std::mem::replace(&mut order[at], DONE);
            if from == start {
                break;
            }
            v.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn equal_keys_keep_their_order() {
        let mut v = vec![(2, 'a'), (1, 'b'), (2, 'c'), (1, 'd'), (0, 'e')];
        sort_by_key(&mut v, |p| p.0);
        assert_eq!(v, [(0, 'e'), (1, 'b'), (1, 'd'), (2, 'a'), (2, 'c')]);
    }

    proptest! {
        // The same result as the standard library's stable sort, whatever the input.
        #[test]
        #[allow(clippy::disallowed_methods)]
        fn same_as_the_standard_stable_sort(v in proptest::collection::vec((0u8..8, any::<u16>()), 0..64)) {
            let mut ours = v.clone();
            let mut std = v.clone();
            sort_by_key(&mut ours, |p| p.0);
            std.sort_by_key(|p| p.0);
            prop_assert_eq!(&ours, &std);
            let mut cached = v.clone();
            sort_by_cached_key(&mut cached, |p| p.0);
            prop_assert_eq!(&cached, &std);
            let mut natural = v.clone();
            let mut std_natural = v;
            sort(&mut natural);
            std_natural.sort();
            prop_assert_eq!(natural, std_natural);
        }
    }
}
