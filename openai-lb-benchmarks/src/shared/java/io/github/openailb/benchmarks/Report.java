package io.github.openailb.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The rows of the final markdown table: one per reported number, with its target and verdict.
 */
final class Report {

	private final List<String[]> rows = new ArrayList<>();

	/**
	 * Add a row.
	 * @param figure the figure number and name
	 * @param measure what was measured
	 * @param result the number, with its error bar
	 * @param target the target, or "-" for context
	 * @param verdict "met", "missed", or a remark
	 */
	void row(String figure, String measure, String result, String target, String verdict) {
		this.rows.add(new String[] { figure, measure, result, target, verdict });
		System.out.printf(Locale.ROOT, "  %-44s %-30s (target %s) %s%n", measure, result, target, verdict);
	}

	static String verdict(boolean met) {
		return met ? "met" : "**missed**";
	}

	String markdown() {
		StringBuilder out = new StringBuilder();
		out.append("| figure | measure | result (mean ± 95% CI) | target | verdict |\n");
		out.append("|---|---|---|---|---|\n");
		for (String[] row : this.rows) {
			out.append("| ").append(String.join(" | ", row)).append(" |\n");
		}
		return out.toString();
	}

}
