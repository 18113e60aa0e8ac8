"""Seeded faults: each weakens a guard or a formula, and the tests named with it must FAIL.

``tests/test_mutations.py`` checks by default that every fault's ``old`` text occurs exactly once in
its file (so this list cannot rot silently when code moves), and, under ``-m slow``, applies each
fault in a temporary copy of the tree and runs its ``tests`` there: pytest must report failures
(exit code 1), not pass, not error out at collection.

To add a fault: append a :class:`Fault` with the exact text to replace (unique in the file), the
replacement, the test selection (pytest node ids or files, relative to the repository root) and
what the fault means. Keep the selection small (it runs in a subprocess) and make sure the tests
it names check the behaviour against an independent computation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    id: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    why: str


FAULTS: tuple[Fault, ...] = (
    Fault(
        id="adaptive-hb-clip-at-1",
        file="solvers/adaptive_hb.py",
        old="beta = be.clip(raw, 0.0, 1.0 - delta)",
        new="beta = be.clip(raw, 0.0, 1.0)",
        tests=("tests/solvers/test_guards.py::test_adaptive_hb_clip_at_one_minus_delta_is_reached_and_applied",),
        why="adaptive heavy ball's clip at 1 - delta removed (beta may reach 1)",
    ),
    Fault(
        id="ema-recorded-beta-ignores-eta",
        file="solvers/heavy_ball.py",
        old="hb_beta = b * eta / be.where(s.eta_prev > 0, s.eta_prev, 1.0) if k > 0 else b + 0.0 * s.eta_prev",
        new="hb_beta = b + 0.0 * s.eta_prev",
        tests=("tests/solvers/test_guards.py::test_ema_recorded_beta_reproduces_the_iterates_as_heavy_ball",),
        why="the EMA form records b_k as its heavy-ball beta (wrong when eta varies)",
    ),
    Fault(
        id="quadratic-mu-second-smallest",
        file="solvers/problems/quadratic.py",
        old="mus, Ls = spectra[:, 0], spectra[:, -1]",
        new="mus, Ls = spectra[:, 1], spectra[:, -1]",
        tests=("tests/solvers/test_guards.py::test_explicit_eigenvalues_report_mu_and_L_from_the_extremes",),
        why="a quadratic with explicit eigenvalues reports mu from the second-smallest one",
    ),
    Fault(
        id="fista-one-index-ahead",
        file="solvers/schedules.py",
        old="return np.where(kk >= 1, (prev - 1.0) / t[kk], 0.0)",
        new="return np.where(kk >= 1, (t[kk] - 1.0) / t[kk + 1], 0.0)",
        tests=("tests/solvers/test_fista_schedule.py::test_fista_schedule_matches_pepit_fista_worst_case",),
        why="the fista schedule applies (t_k - 1)/t_{k+1}: one index ahead of FISTA",
    ),
    Fault(
        id="rate-fit-ignores-double-roots",
        file="verify/rates.py",
        old="use_double = _is_double(dbl, kk, res0)",
        new="use_double = False",
        tests=("tests/verify/test_rate_fit_grid.py::test_the_textbook_heavy_ball_claim_passes_with_defaults",),
        why="the default rate fit uses rho^k for heavy ball at its optimum (k rho^k): biased +1%",
    ),
    Fault(
        id="lessard-orbit-not-filtered-for-stability",
        file="theory/lessard_cycle.py",
        old="if attracting and not monodromy_radius(pieces, assign, alpha, beta) < 1:",
        new="if attracting and False:",
        tests=("tests/theory/test_lessard_cycle.py::test_the_attracting_orbit_is_where_heavy_ball_goes",),
        why="the LRP prediction does not choose the attracting orbit among the two period-3 orbits",
    ),
    Fault(
        id="demon-adam-paper-eps-outside-root",
        file="solvers/demon.py",
        old="return v.add(eps).sqrt_() if inplace else be.sqrt(v + eps)",
        new="return v.sqrt().add_(eps) if inplace else be.sqrt(v) + eps",
        tests=("tests/papers_methods/test_demon.py::test_demon_adam_paper_variant_on_random_gradients",),
        why="Demon Adam's paper variant with eps outside the square root (Adam's placement, not Algorithm 2's)",
    ),
    Fault(
        id="rate-fit-double-root-without-concavity",
        file="verify/rates.py",
        old="elif _lstsq(kk[half:], ll[half:], 0.0)[0] < s0:",
        new="elif True:",
        tests=("tests/verify/test_rate_fit_guards.py::test_convex_log_error_keeps_rho_k",),
        why="the double-root model is fitted and taken on a convex log error (a transient): 2.8e-3 off",
    ),
    Fault(
        id="rate-fit-double-root-without-growth",
        file="verify/rates.py",
        old="d.growth >= DOUBLE_GROWTH * jordan and",
        new="True and",
        tests=("tests/verify/test_rate_fit_guards.py::test_growth_guard_keeps_rho_k_when_the_factor_grows_too_little",),
        why="the double-root model is taken though its factor grows far less than a Jordan block's",
    ),
    Fault(
        id="rate-fit-double-root-without-significance",
        file="verify/rates.py",
        old="and d.growth >= DOUBLE_SIGNIFICANCE * scatter",
        new="and True",
        tests=("tests/verify/test_rate_fit_guards.py::test_significance_guard_keeps_rho_k_for_a_slow_oscillation",),
        why="a slow oscillation makes the double-root model's factor 'grow': the model switches (2% off)",
    ),
    Fault(
        id="rate-fit-double-root-without-gain",
        file="verify/rates.py",
        old="and d.residual <= DOUBLE_GAIN * res0)",
        new="and True)",
        tests=("tests/verify/test_rate_fit_guards.py::test_gain_guard_keeps_rho_k_for_complex_roots_of_one_modulus",),
        why="heavy ball above beta*: a factor that follows the slow oscillation is taken, 1.1% off",
    ),
    Fault(
        id="rate-fit-steady-decay-called-plateau",
        file="verify/rates.py",
        old="flat = -slope <= 0.1 * average",
        new="flat = float(np.percentile(last, 90)) <= 10.0 * med",
        tests=("tests/verify/test_rate_fit_guards.py::test_slow_steady_decay_is_not_a_plateau",),
        why="the old plateau test: a slow steady decay (0.968^k) is cut 1e3 above its end, at k ~ 240 of 500",
    ),
    Fault(
        id="default-floor-ignores-exact-zero-optimum",
        file="verify/api.py",
        old="        return 0.0\n    return 1e-12",
        new="        return 1e-12\n    return 1e-12",
        tests=("tests/verify/test_rate_fit_guards.py::test_default_floor_is_zero_only_for_an_exact_zero_optimum",),
        why="x* = 0 fitted only down to 1e-12 (Nesterov at kappa = 10, seed 1: +1.3% instead of < 1e-6)",
    ),
    Fault(
        id="logistic-x-star-stops-at-gtol",
        file="solvers/problems/logistic.py",
        old="for _ in range(30):  # Newton until the gradient stops decreasing",
        new="for _ in range(0 if gnorm <= GTOL else 30):  # Newton until the gradient stops decreasing",
        tests=("tests/solvers/test_problems.py::test_logistic_optimum_is_exact_to_round_off",),
        why="logistic x* polished only to ||grad|| <= 1e-12: a plateau at 5e-13 relative in rate fits",
    ),
    Fault(
        id="rate-fit-no-plateau-cut",
        file="verify/rates.py",
        old="level = max(level, PLATEAU_MARGIN * _plateaued(fin))",
        new="level = max(level, 0.0)",
        tests=("tests/verify/test_rate_fit_guards.py::test_plateau_is_cut_off",),
        why="the rate fit keeps records on an error plateau (x* known only to ~1e-9): biased towards 1",
    ),
    Fault(
        id="upper-margin-divides-by-atol",
        file="verify/claims.py",
        old="if np.any(b == 0):",
        new="if False:",
        tests=("tests/verify/test_rate_fit_guards.py::test_zero_bound_needs_a_stated_scale",),
        why="an upper margin against a zero bound divided by atol (the -9.35e+08 of demon.beta-concave)",
    ),
    Fault(
        id="certificate-rate-one-accepted",
        file="verify/certificates.py",
        old="certified = hi_status is not None and hi < 1.0",
        new="certified = hi_status is not None and hi <= 1.0",
        tests=("tests/verify/test_certificates_general.py::test_rate_one_is_not_a_linear_rate",),
        why="the rate bisection's hi < 1 weakened to hi <= 1: GD at alpha = 0 or 2/L 'certified' at rate 1",
    ),
    Fault(
        id="certificate-inaccurate-status-accepted",
        file="verify/certificates.py",
        old='        if status == "optimal":\n            if data.check(',
        new='        if status in ("optimal", "optimal_inaccurate"):\n            if data.check(',
        tests=("tests/verify/test_certificates_general.py::test_non_optimal_status_never_certifies",),
        why="an SDP solve with status optimal_inaccurate counted as a certificate",
    ),
    Fault(
        id="certificate-no-a-posteriori-check",
        file="verify/certificates.py",
        old="if data.check(rho, P, lam, nu, tau):\n                return True, status",
        new="if True:\n                return True, status",
        tests=("tests/verify/test_certificates_general.py::test_a_posteriori_check_rejects_a_wrong_solution",),
        why="the a-posteriori check of the rate certificate's multipliers skipped",
    ),
    Fault(
        id="quadratic-rate-trace-without-abs",
        file="verify/certificates.py",
        old="r = np.where(disc >= 0, (np.abs(t) + sq) / 2",
        new="r = np.where(disc >= 0, (t + sq) / 2",
        tests=("tests/verify/test_certificates_general.py::test_quadratic_rate_with_negative_trace",),
        why="quadratic_rate with t in place of |t| (wrong for a negative trace, large alpha L)",
    ),
    Fault(
        id="certificate-half-the-interpolation-pairs",
        file="verify/certificates.py",
        old="self.pairs = [(i, j) for i in range(npts) for j in range(npts) if i != j]",
        new="self.pairs = [(i, j) for i in range(npts) for j in range(npts) if i < j]",
        tests=("tests/verify/test_certificates_general.py::test_triple_momentum_certifies_one_minus_sqrt_q",
               "tests/verify/test_certificates_general.py::test_two_gradient_calls_per_step"),
        why="the rate LMI's S-procedure over only one ordering of each pair of points (looser rates)",
    ),
    Fault(
        id="certificate-positivity-without-x-star",
        file="verify/certificates.py",
        old="pos_pts = list(range(m)) + [2 * m]",
        new="pos_pts = list(range(m))",
        tests=("tests/verify/test_certificates_general.py::test_triple_momentum_certifies_one_minus_sqrt_q",),
        why="V >= ||x - x*||^2 imposed without the interpolation inequalities between y_k and x*",
    ),
    Fault(
        id="pep-primal-residual-check-weakened",
        file="verify/pep.py",
        old='("primal", presid > PRIMAL_TOL * sc)',
        new='("primal", presid > 1e9 * sc)',
        tests=("tests/verify/test_pep.py::test_primal_residual_guard_rejects_infeasible_gram",
               "tests/verify/test_pep.py::test_primal_residual_guard_negative_eigenvalue"),
        why="the PEP's primal-residual check (interpolation, initial condition, Gram PSD) accepts anything",
    ),
    Fault(
        id="pep-gram-psd-not-checked",
        file="verify/pep.py",
        old="presid = max(float(viol.max()) if len(viol) else 0.0, init, -float(np.linalg.eigvalsh(G).min()), 0.0)",
        new="presid = max(float(viol.max()) if len(viol) else 0.0, init, 0.0)",
        tests=("tests/verify/test_pep.py::test_primal_residual_guard_negative_eigenvalue",),
        why="the PEP's primal residual ignores a negative eigenvalue of the Gram matrix",
    ),
    Fault(
        id="pep-dual-residual-check-removed",
        file="verify/pep.py",
        old='("dual", dresid > DUAL_TOL * sc)',
        new='("dual", False)',
        tests=("tests/verify/test_pep.py::test_dual_residual_guard_rejects_infeasible_multipliers",),
        why="the PEP's dual-residual check (dual slack NSD, function-value equations) removed",
    ),
    Fault(
        id="pep-gap-check-removed",
        file="verify/pep.py",
        old='("gap", abs(value - tau) > GAP_TOL * sc)',
        new='("gap", False)',
        tests=("tests/verify/test_pep.py::test_dual_guard_rejects_wrong_multiplier",),
        why="the PEP's primal-dual gap check removed",
    ),
    Fault(
        id="pep-status-not-required-optimal",
        file="verify/pep.py",
        old='        if status != "optimal":\n            tried.append',
        new='        if status not in ("optimal", "max_iterations"):\n            tried.append',
        tests=("tests/verify/test_pep.py::test_status_not_optimal_gives_no_value",),
        why="a PEP solve cut short (max_iterations) is accepted if it passes the residual checks",
    ),
    Fault(
        id="linear-form-not-checked",
        file="solvers/linear.py",
        old="    if not (err <= FORM_CHECK_RTOL):",
        new="    if False:",
        tests=("tests/solvers/test_linear_forms.py::test_a_form_that_does_not_reproduce_the_step_is_refused",),
        why="a hand-written rule's declared linear form is used without checking it against the rule's step",
    ),
    Fault(
        id="state-space-fixed-point-not-checked",
        file="solvers/linear.py",
        old="    if fixed_point:\n        for key, M in",
        new="    if False:\n        for key, M in",
        tests=("tests/verify/test_pep.py",),
        why="the PEP accepts state-space matrices for which x* is not a fixed point (rows of A, C not summing to 1)",
    ),
    Fault(
        id="fork-pool-forks-late",
        file="verify/runner.py",
        old="        pool.submit(int).result()\n",
        new="        pass\n",
        tests=("tests/verify/test_executors.py::test_a_fork_pool_forks_its_workers_at_once",),
        why="a fork pool forks its workers at the first claim, after run_claims may have imported torch",
    ),
    Fault(
        id="fork-despite-threads",
        file="verify/runner.py",
        old="            and threading.active_count() == 1):",
        new="            ):",
        tests=("tests/verify/test_executors.py::test_default_start_never_forks_a_process_with_threads_or_torch",),
        why="local_executor forks a process that runs other threads",
    ),
    Fault(
        id="verify-table-margin-without-scale",
        file="verify/cli.py",
        old='    return f"{r.margin:+.2e} of {_scale(r)[0]}"',
        new='    return f"{r.margin:+.2e}"',
        tests=("tests/verify/test_cli_verify.py::test_table_prints_every_margin_with_its_scale",),
        why="polyak verify prints margins without the scale they are relative to",
    ),
    Fault(
        id="no-fixed-point-warning",
        file="solvers/linear.py",
        old="    if bad or calls:\n        what =",
        new="    if False:\n        what =",
        tests=("tests/solvers/test_linear_forms.py::test_a_buffer_written_as_a_state_variable_is_warned_about_and_the_u_form_is_not",),
        why="a linear method whose (x*, ..., x*) is not a fixed point (a buffer written as a state variable) is defined silently",
    ),
    Fault(
        id="linear-form-schedule-not-checked",
        file="solvers/linear.py",
        old="    if sched:\n        via =",
        new="    if False:\n        via =",
        tests=("tests/solvers/test_linear_forms.py::test_a_schedule_introduced_by_the_linear_form_is_refused_where_constant_coefficients_are_needed",),
        why="a rate certificate is issued for Demon SGDM at beta_init alone (its linear form's beta_t schedule unseen)",
    ),
    Fault(
        id="adaptive-hb-compiled-secant-keeps-old-gradient",
        file="solvers/torch_optim.py",
        old="        gp[i] = g[i]\n    if with_dx:",
        new="        gp[i] = gp[i]\n    if with_dx:",
        tests=("tests/papers_methods/test_torch_optim_foreach.py::test_the_compiled_passes_run_on_large_cpu_tensors_and_bump_versions",
               "tests/papers_methods/test_torch_optim_foreach.py::test_foreach_path_matches_the_loop_and_the_engine_at_random_hyperparameters",),
        why="AdaptiveHB's compiled reduction forgets to keep g_k for the next step (the secant then uses a stale gradient)",
    ),
    Fault(
        id="derivation-cache-evaluates-on-load",
        file="theory/derivation.py",
        old="            if isinstance(obj, _KEEP_AS_BUILT):",
        new="            if False:",
        tests=("tests/theory/test_derivation_cache.py::test_loaded_records_equal_fresh_builds_symbolically",),
        why="the derivation cache pickles sympy's way: the domain's mu > 0 comes back as True (mu <= 0 accepted)",
    ),
)
