package io.github.openailb.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Repeated measurements of one quantity, summarised as mean ± half-width of the 95 % confidence
 * interval (Student's t), which is what every figure prints as its error bar.
 */
final class Samples {

	/** Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom. */
	private static final double[] T95 = { 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
			2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060,
			2.056, 2.052, 2.048, 2.045, 2.042 };

	private final List<Double> values = new ArrayList<>();

	void add(double value) {
		this.values.add(value);
	}

	int count() {
		return this.values.size();
	}

	double mean() {
		double sum = 0;
		for (double value : this.values) {
			sum += value;
		}
		return sum / this.values.size();
	}

	/** Half-width of the 95 % confidence interval of the mean; 0 for a single sample. */
	double error() {
		int n = this.values.size();
		if (n < 2) {
			return 0;
		}
		double mean = mean();
		double squares = 0;
		for (double value : this.values) {
			squares += (value - mean) * (value - mean);
		}
		double t = (n - 1 <= T95.length) ? T95[n - 2] : 1.96;
		return t * Math.sqrt(squares / (n - 1)) / Math.sqrt(n);
	}

	double max() {
		return this.values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
	}

	/** Mean ± error with the given number of decimals. */
	String format(int decimals) {
		String pattern = "%." + decimals + "f ± %." + decimals + "f";
		return String.format(Locale.ROOT, pattern, mean(), error());
	}

}
