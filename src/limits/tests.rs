use super::*;

fn machine_like_this_one() -> Limits {
    Limits {
        max_map_count: 65_530,
        maps_in_use: 30,
        threads_max: 192_730,
        pid_max: 32_768,
        tasks_on_system: 137,
        nproc: Some(96_365),
        user_threads: 137,
        mem_available: 22 << 30,
        nofile: Some(20_000),
        open_fds: 4,
        local_ports: Some((32_768, 60_999)),
    }
}

#[test]
fn the_map_count_binds_here_at_about_15_800_threads() {
    let headroom = machine_like_this_one().thread_headroom();
    // (65,530 - 30 - 2,047 spare) / 4
    assert_eq!(headroom.count, 15_863);
    assert_eq!(
        headroom.limit,
        Limit::MapCount {
            max: 65_530,
            in_use: 30
        }
    );
}

#[test]
fn a_kernel_with_many_mappings_has_less_room() {
    let limits = Limits {
        maps_in_use: 20_030,
        ..machine_like_this_one()
    };
    assert_eq!(limits.thread_headroom().count, 10_863);
}

#[test]
fn each_limit_can_bind() {
    let base = machine_like_this_one();
    let cases = [
        (
            Limits {
                threads_max: 5_000,
                ..base.clone()
            },
            Limit::ThreadsMax {
                max: 5_000,
                in_use: 137,
            },
            5_000 - 137 - 256,
        ),
        (
            Limits {
                pid_max: 10_000,
                ..base.clone()
            },
            Limit::PidMax {
                max: 10_000,
                in_use: 137,
            },
            10_000 - 137 - 312,
        ),
        (
            Limits {
                nproc: Some(4_096),
                user_threads: 1_000,
                ..base.clone()
            },
            Limit::Nproc {
                max: 4_096,
                in_use: 1_000,
            },
            4_096 - 1_000 - 256,
        ),
        (
            Limits {
                mem_available: 1 << 30,
                ..base.clone()
            },
            Limit::Memory {
                available: 1 << 30,
                per_thread: THREAD_MEMORY_BYTES,
            },
            ((1 << 30) - (256 << 20)) / THREAD_MEMORY_BYTES,
        ),
    ];
    for (limits, limit, count) in cases {
        assert_eq!(limits.thread_headroom(), Headroom { count, limit });
    }
}

#[test]
fn no_room_at_all_is_zero_not_an_underflow() {
    let limits = Limits {
        maps_in_use: 70_000,
        ..machine_like_this_one()
    };
    assert_eq!(limits.thread_headroom().count, 0);
    let limits = Limits {
        nofile: Some(100),
        open_fds: 200,
        ..machine_like_this_one()
    };
    assert_eq!(limits.fd_headroom(1).unwrap().count, 0);
}

#[test]
fn unlimited_nproc_and_nofile_do_not_bind() {
    let limits = Limits {
        max_map_count: u64::MAX,
        nproc: None,
        ..machine_like_this_one()
    };
    assert!(matches!(
        limits.thread_headroom().limit,
        Limit::PidMax { .. }
    ));
    assert_eq!(Limits::unlimited().fd_headroom(1), None);
}

#[test]
fn the_reasons_read_well() {
    let stopped = Stopped {
        started: 15_800,
        limit: Limit::MapCount {
            max: 65_530,
            in_use: 1_234,
        },
    };
    assert_eq!(
        stopped.to_string(),
        "stopped at 15,800 threads: vm.max_map_count (65,530 mappings, 4 per thread, 1,234 in use)"
    );
    let memory = Limit::Memory {
        available: 3 << 30,
        per_thread: THREAD_MEMORY_BYTES,
    };
    assert_eq!(
        memory.to_string(),
        "available memory (3,072 MiB, 64 KiB per thread)"
    );
}

#[test]
fn the_local_ports_limit_connections() {
    let with_ports = |low, high| Limits {
        local_ports: Some((low, high)),
        ..Limits::unlimited()
    };
    let count = |low, high| with_ports(low, high).port_headroom().unwrap().count;
    assert_eq!(count(32_768, 60_999), 27_232);
    assert_eq!(count(1_024, 65_535), 63_512);
    assert_eq!(count(60_000, 60_500), 0);
    assert_eq!(count(61_000, 60_000), 0);
    assert_eq!(Limits::unlimited().port_headroom(), None);
    assert_eq!(
        with_ports(32_768, 60_999).port_headroom().unwrap().limit,
        Limit::LocalPorts {
            low: 32_768,
            high: 60_999
        }
    );
    assert_eq!(
        Limit::LocalPorts {
            low: 32_768,
            high: 60_999
        }
        .to_string(),
        "net.ipv4.ip_local_port_range (ports 32768 to 60999, one per connection, 1,000 kept free)"
    );
}

#[test]
fn the_soft_open_file_limit_is_raised_only_when_needed_and_possible() {
    let soft = |nofile| Limits {
        nofile: Some(nofile),
        open_fds: 25,
        ..Limits::unlimited()
    };
    // Enough room already: leave it alone.
    assert_eq!(soft(20_000).raised_open_file_limit(20_000, 2, 1_000), None);
    // Too low, and the hard limit is higher: raise to the hard limit,
    // even if that is still not enough (the part is then capped).
    assert_eq!(
        soft(1_024).raised_open_file_limit(4_096, 2, 10_000),
        Some(4_096)
    );
    // Too low, and the hard limit is the soft one: nothing to raise.
    assert_eq!(soft(20_000).raised_open_file_limit(20_000, 2, 10_000), None);
    // Unlimited already: nothing to raise.
    assert_eq!(
        Limits::unlimited().raised_open_file_limit(u64::MAX, 2, 10_000),
        None
    );
}

#[test]
fn open_file_room_for_clients_of_two_descriptors() {
    // 10,000 clients need 20,000 descriptors, plus those in use and the
    // margin: a hard limit of 20,000, as here, is not enough.
    let limits = Limits {
        nofile: Some(20_000),
        open_fds: 25,
        ..Limits::unlimited()
    };
    // (20,000 - 25 - 625 spare) / 2
    assert_eq!(limits.fd_headroom(2).unwrap().count, 9_675);
    let full = Limits {
        nofile: Some(1_024),
        open_fds: 1_024,
        ..Limits::unlimited()
    };
    assert_eq!(full.fd_headroom(2).unwrap().count, 0);
}

#[cfg(target_os = "linux")]
#[test]
fn this_machine_s_limits_are_read() {
    let limits = Limits::read().unwrap();
    assert!(limits.max_map_count > 0 && limits.maps_in_use > 0);
    assert!(limits.tasks_on_system >= 1 && limits.user_threads >= 1);
    assert!(limits.open_fds >= 3);
    assert!(limits.mem_available > 0);
    assert!(limits.thread_headroom().count > 0);
    assert!(limits.port_headroom().unwrap().count > 0);
    let (soft, hard) = linux::open_file_limits().unwrap();
    assert!(soft <= hard);
    assert_eq!(limits.nofile, (soft != libc::RLIM_INFINITY).then_some(soft));
}
