//! User namespace id mappings (uid_map, gid_map): the config carries
//! them, the sentry translates with them.

/// One id mapping line: `count` ids from `inside` map to `outside`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdRange {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

/// The workload user namespace's uid or gid mapping (uid_map / gid_map).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdMap(pub Vec<IdRange>);

/// overflowuid/overflowgid: what an unmapped id reads as.
pub const OVERFLOW_ID: u32 = 65534;

impl IdMap {
    /// Container id N = host id N, from 0 up to the sandbox owner ids
    /// (`owner::FIRST`, 4294901760 ids): those stay unmapped, so no
    /// workload can become another sandbox's owner; (uid_t)-1 is invalid
    /// anyway.
    pub fn identity() -> IdMap {
        IdMap(vec![IdRange {
            inside: 0,
            outside: 0,
            count: super::owner::FIRST,
        }])
    }

    pub fn is_identity(&self) -> bool {
        *self == IdMap::identity()
    }

    /// The container's id of host id `host` (OVERFLOW_ID when unmapped).
    pub fn to_container(&self, host: u32) -> u32 {
        self.0
            .iter()
            .find(|r| host >= r.outside && host - r.outside < r.count)
            .map_or(OVERFLOW_ID, |r| r.inside + (host - r.outside))
    }

    /// The host id of container id `id`, if it is mapped.
    pub fn to_host(&self, id: u32) -> Option<u32> {
        self.0
            .iter()
            .find(|r| id >= r.inside && id - r.inside < r.count)
            .map(|r| r.outside + (id - r.inside))
    }

    /// The text of /proc/<pid>/uid_map for it.
    pub fn proc_text(&self) -> String {
        self.0
            .iter()
            .map(|r| format!("{:>10} {:>10} {:>10}\n", r.inside, r.outside, r.count))
            .collect()
    }
}
