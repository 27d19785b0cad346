//! Morris elementary effects (Morris 1991; μ* from Campolongo, Cariboni and Saltelli 2007): a
//! screening of which inputs move an output, at `r (k + 1)` evaluations for `k` inputs.
//!
//! Each input is scaled to [0, 1] over its range and takes one of `p = 4` levels
//! {0, 1/3, 2/3, 1}. A trajectory starts at a random level of every input and moves one input at
//! a time, in a random order, by Δ = p / (2 (p − 1)) = 2/3 (up when it can, else down), so it
//! has `k + 1` points and one elementary effect per input:
//! `EE_i = (f(x') − f(x)) / (x'_i − x_i)`, the output's change per whole range of input `i`.
//! Over `r` trajectories: μ* = mean |EE| (the influence), μ = mean EE (its direction) and σ, the
//! sample standard deviation of EE (interactions and non-linearity).
//!
//! Draws come from [`mix64`] of (seed, trajectory, draw), integers only, so a design is the same
//! on every machine.

use crate::engine::mix64;

/// Levels of each input.
pub const LEVELS: u32 = 4;
/// Levels moved per step: p / 2, so Δ = (p / 2) / (p − 1) = 2/3 of the range.
const STEP_LEVELS: u32 = LEVELS / 2;
/// Tells these draws apart from any other use of the seed.
const TAG: u64 = 0x6d6f_7272_6973; // "morris"

/// Δ as a fraction of each input's range.
pub fn delta() -> f64 {
    f64::from(STEP_LEVELS) / f64::from(LEVELS - 1)
}

/// One trajectory: `k + 1` points, each a level (0 .. p − 1) per input; point `j + 1` differs
/// from point `j` in input `moved[j]` only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trajectory {
    pub points: Vec<Vec<u32>>,
    pub moved: Vec<usize>,
}

/// A level as a fraction of the range.
pub fn unit(level: u32) -> f64 {
    f64::from(level) / f64::from(LEVELS - 1)
}

/// `r` trajectories over `k` inputs, drawn from `seed`.
pub fn design(k: usize, r: usize, seed: u64) -> Vec<Trajectory> {
    (0..r as u64)
        .map(|t| {
            let mut draw_count = 0u64;
            let mut draw = |n: u64| {
                draw_count += 1;
                mix64(&[seed, TAG, t, draw_count]) % n
            };
            let mut x: Vec<u32> = (0..k).map(|_| draw(u64::from(LEVELS)) as u32).collect();
            // Fisher–Yates: the order the inputs move in.
            let mut moved: Vec<usize> = (0..k).collect();
            for i in (1..k).rev() {
                moved.swap(i, draw(i as u64 + 1) as usize);
            }
            let mut points = vec![x.clone()];
            for &i in &moved {
                x[i] = if x[i] + STEP_LEVELS < LEVELS { x[i] + STEP_LEVELS } else { x[i] - STEP_LEVELS };
                points.push(x.clone());
            }
            Trajectory { points, moved }
        })
        .collect()
}

/// The screening statistics of one input.
#[derive(Clone, Debug, PartialEq)]
pub struct Effects {
    /// Each trajectory's elementary effect; `None` where the output was missing at either point.
    pub elementary: Vec<Option<f64>>,
    pub mu_star: Option<f64>,
    pub mu: Option<f64>,
    /// Sample standard deviation; `None` with fewer than two effects.
    pub sigma: Option<f64>,
}

/// The effects of every input, from the outputs at each trajectory's points (`outputs[t][j]` is
/// the output at point `j` of trajectory `t`).
pub fn effects(k: usize, trajectories: &[Trajectory], outputs: &[Vec<Option<f64>>]) -> Vec<Effects> {
    let mut elementary = vec![Vec::with_capacity(trajectories.len()); k];
    for (traj, y) in trajectories.iter().zip(outputs) {
        for (j, &i) in traj.moved.iter().enumerate() {
            let step = unit(traj.points[j + 1][i]) - unit(traj.points[j][i]);
            elementary[i].push(y[j].zip(y[j + 1]).map(|(a, b)| (b - a) / step));
        }
    }
    elementary
        .into_iter()
        .map(|ee| {
            let present: Vec<f64> = ee.iter().flatten().copied().collect();
            let n = present.len();
            let mean = |f: fn(f64) -> f64| (n > 0).then(|| present.iter().map(|&e| f(e)).sum::<f64>() / n as f64);
            let (mu_star, mu) = (mean(f64::abs), mean(|e| e));
            let sigma = mu
                .filter(|_| n > 1)
                .map(|m| (present.iter().map(|e| (e - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
            Effects { elementary: ee, mu_star, mu, sigma }
        })
        .collect()
}

/// Ranks by μ* (largest first; missing last); equal μ* share a rank ("1, 2, 2, 4").
pub fn ranks(effects: &[Effects]) -> Vec<usize> {
    let key = |e: &Effects| e.mu_star.unwrap_or(f64::NEG_INFINITY);
    effects.iter().map(|e| 1 + effects.iter().filter(|o| key(o) > key(e)).count()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates `f` on physical inputs `lo + u (hi − lo)` along every trajectory.
    fn outputs(traj: &[Trajectory], ranges: &[(f64, f64)], f: impl Fn(&[f64]) -> f64) -> Vec<Vec<Option<f64>>> {
        let x = |p: &Vec<u32>| p.iter().zip(ranges).map(|(&l, &(lo, hi))| lo + unit(l) * (hi - lo)).collect::<Vec<_>>();
        traj.iter().map(|t| t.points.iter().map(|p| Some(f(&x(p)))).collect()).collect()
    }

    #[test]
    fn a_linear_function_has_its_slope_times_the_range() {
        // f = 3 x1 + 0 x2 with x1 in [0, 2], x2 in [5, 50]: moving x1 by Δ = 2/3 of its range
        // changes f by 3 × (2/3 × 2) = 4, so EE = 4 / (2/3) = 6 = 3 × (2 − 0) in every
        // trajectory: μ* = μ = 6, σ = 0; x2 never changes f: μ* = 0.
        let traj = design(2, 10, 7);
        let e = effects(2, &traj, &outputs(&traj, &[(0.0, 2.0), (5.0, 50.0)], |x| 3.0 * x[0] + 0.0 * x[1]));
        assert!((e[0].mu_star.unwrap() - 6.0).abs() < 1e-12 && (e[0].mu.unwrap() - 6.0).abs() < 1e-12);
        assert!(e[0].sigma.unwrap() < 1e-12);
        assert_eq!((e[1].mu_star, e[1].sigma), (Some(0.0), Some(0.0)));
        assert_eq!(ranks(&e), [1, 2]);
    }

    #[test]
    fn a_decreasing_input_has_negative_mu_and_an_interaction_has_sigma() {
        // f = −x1 + x2 x3 on [0, 1]³: EE of x1 is −1 always (μ* 1, μ −1, σ 0); EE of x2 is x3,
        // which differs between trajectories, so σ > 0 and μ* = mean x3 at the step.
        let traj = design(3, 40, 11);
        let e = effects(3, &traj, &outputs(&traj, &[(0.0, 1.0); 3], |x| -x[0] + x[1] * x[2]));
        assert!((e[0].mu.unwrap() + 1.0).abs() < 1e-12 && (e[0].mu_star.unwrap() - 1.0).abs() < 1e-12);
        assert!(e[1].sigma.unwrap() > 0.1 && e[2].sigma.unwrap() > 0.1);
    }

    #[test]
    fn trajectories_move_one_input_by_delta_each_step_and_repeat_from_the_seed() {
        let traj = design(5, 20, 3);
        assert_eq!(traj, design(5, 20, 3));
        assert_ne!(traj, design(5, 20, 4));
        for t in &traj {
            assert_eq!(t.points.len(), 6);
            let mut order = t.moved.clone();
            order.sort_unstable();
            assert_eq!(order, [0, 1, 2, 3, 4], "each input moves once");
            for (j, &i) in t.moved.iter().enumerate() {
                for input in 0..5 {
                    let (a, b) = (t.points[j][input], t.points[j + 1][input]);
                    if input == i {
                        assert!((unit(a) - unit(b)).abs() - delta() < 1e-12 && a < LEVELS && b < LEVELS);
                    } else {
                        assert_eq!(a, b);
                    }
                }
            }
        }
        // Every level is a start somewhere: 20 trajectories × 5 inputs.
        let starts: Vec<u32> = traj.iter().flat_map(|t| t.points[0].clone()).collect();
        assert!((0..LEVELS).all(|l| starts.contains(&l)));
    }

    #[test]
    fn missing_outputs_skip_their_effects_and_ties_share_a_rank() {
        let traj = design(2, 3, 1);
        let mut y = outputs(&traj, &[(0.0, 1.0); 2], |x| x[0]);
        y[0] = vec![None; 3];
        let e = effects(2, &traj, &y);
        assert_eq!(e[0].elementary.iter().flatten().count(), 2);
        let three =
            [Some(2.0), Some(5.0), Some(2.0)].map(|m| Effects { elementary: vec![], mu_star: m, mu: m, sigma: None });
        assert_eq!(ranks(&three), [2, 1, 2]);
    }
}
