//! What an agent measures of a container (`ResourceStatistics`), as `/monitor/statistics`,
//! `/containers` and GET_CONTAINERS write it. The fields are the ones an agent fills in for
//! processes, CPU, memory, disk and network; the detailed sub-reports (perf, blkio, SNMP,
//! traffic control, rate percentiles) pass through as they came.

use super::executor::ExecutorInfo;
use super::ids::{ContainerId, TaskId};
use super::labels::Labels;
use super::resource::Resource;

crate::message! {
    /// A container's resource usage at one moment.
    pub struct ResourceStatistics {
        /// Seconds since the epoch.
        req timestamp: f64,
        opt processes: u32,
        opt threads: u32,
        opt cpus_user_time_secs: f64,
        opt cpus_system_time_secs: f64,
        opt cpus_limit: f64,
        opt cpus_soft_limit: f64,
        opt cpus_nr_periods: u32,
        opt cpus_nr_throttled: u32,
        opt cpus_throttled_time_secs: f64,
        opt mem_total_bytes: u64,
        opt mem_total_memsw_bytes: u64,
        opt mem_kmem_usage_bytes: u64,
        opt mem_kmem_tcp_usage_bytes: u64,
        opt mem_limit_bytes: u64,
        opt mem_soft_limit_bytes: u64,
        opt mem_file_bytes: u64,
        opt mem_anon_bytes: u64,
        opt mem_cache_bytes: u64,
        opt mem_rss_bytes: u64,
        opt mem_mapped_file_bytes: u64,
        opt mem_swap_bytes: u64,
        opt mem_unevictable_bytes: u64,
        opt mem_low_pressure_counter: u64,
        opt mem_medium_pressure_counter: u64,
        opt mem_critical_pressure_counter: u64,
        opt disk_limit_bytes: u64,
        opt disk_used_bytes: u64,
        opt net_rx_packets: u64,
        opt net_rx_bytes: u64,
        opt net_rx_errors: u64,
        opt net_rx_dropped: u64,
        opt net_tx_packets: u64,
        opt net_tx_bytes: u64,
        opt net_tx_errors: u64,
        opt net_tx_dropped: u64,
        opt net_tcp_rtt_microsecs_p50: f64,
        opt net_tcp_rtt_microsecs_p90: f64,
        opt net_tcp_rtt_microsecs_p95: f64,
        opt net_tcp_rtt_microsecs_p99: f64,
        opt net_tcp_active_connections: f64,
        opt net_tcp_time_wait_connections: f64,
    }
}

crate::message! {
    /// A task of an executor in a usage report.
    pub struct UsageTask {
        req name: String,
        req id: TaskId,
        rep resources: Resource,
        opt labels: Labels,
    }
}

crate::message! {
    /// One executor's usage.
    pub struct UsageExecutor {
        req executor_info: ExecutorInfo,
        rep allocated: Resource,
        opt statistics: ResourceStatistics,
        req container_id: ContainerId,
        rep tasks: UsageTask,
    }
}

crate::message! {
    /// An agent's resource usage, by executor.
    pub struct ResourceUsage {
        rep executors: UsageExecutor,
        rep total: Resource,
    }
}
