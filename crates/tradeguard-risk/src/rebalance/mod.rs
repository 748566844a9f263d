//! Rebalancing: when ([`schedule`]), towards what ([`targets`]) and with which orders
//! ([`plan`]).
//!
//! A rebalance draws its randomness from a caller-supplied CSPRNG: targets move by up to the
//! profile's randomization factor, and so do the next threshold and period, so an observer
//! cannot predict when or how much a profile trades. Targets are then clipped to the limits,
//! so randomization never breaks one.

pub mod plan;
pub mod schedule;
pub mod targets;

pub use plan::{PlanInput, RebalancePlan, SkipReason, Skipped, plan_rebalance};
pub use schedule::{RebalanceSchedule, Trigger};
pub use targets::{TargetModel, Targets, clip_to_limits, model_targets, randomize};

#[cfg(test)]
mod tests;
