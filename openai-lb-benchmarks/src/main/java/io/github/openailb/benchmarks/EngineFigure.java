package io.github.openailb.benchmarks;

import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Figure 1: runs {@link EngineBenchmark} under JMH with the GC profiler (in a forked JVM) and
 * reports time and bytes allocated per request.
 */
final class EngineFigure {

	private static final Map<String, String> CONNECTOR_ROWS = Map.of("balancedRequest",
			"one request through exchange(…), in-memory transport", "balanced",
			"one request written by a client to the balanced URL", "direct",
			"the same request written straight to the transport", "passThrough",
			"the same request through the connector to a URL it does not balance");

	private EngineFigure() {
	}

	static void run(Report report, double scale) throws Exception {
		Options options = new OptionsBuilder().include(EngineBenchmark.class.getName())
			.include(ConnectorBenchmark.class.getName())
			.addProfiler(GCProfiler.class)
			.forks(1)
			.warmupIterations(3)
			.warmupTime(TimeValue.milliseconds((long) (1000 * scale)))
			.measurementIterations(5)
			.measurementTime(TimeValue.milliseconds((long) (1000 * scale)))
			.jvmArgsAppend("-Xmx512m")
			.build();
		Collection<RunResult> results = new Runner(options).run();
		System.out.println();
		Map<String, Result<?>> connectorBytes = new HashMap<>();
		for (RunResult result : results) {
			String benchmark = result.getParams().getBenchmark();
			String backends = result.getParams().getParam("backends");
			Result<?> time = result.getPrimaryResult();
			Result<?> bytes = result.getSecondaryResults().get("·gc.alloc.rate.norm");
			if (bytes == null) {
				bytes = result.getSecondaryResults().get("gc.alloc.rate.norm");
			}
			boolean engine = benchmark.endsWith("selectAndRecord");
			String method = benchmark.substring(benchmark.lastIndexOf('.') + 1);
			if (!engine) {
				connectorBytes.put(method, bytes);
			}
			String figure = engine ? "1. engine, " + backends + " backends" : "1b. reactive connector, 3 backends";
			String what = engine ? "begin + next + answered(200)" : CONNECTOR_ROWS.getOrDefault(method, method);
			report.row(figure, what,
					String.format(Locale.ROOT, "%.1f ± %.1f ns", time.getScore(), time.getScoreError()),
					engine ? "≪ 1 µs" : "-", engine ? Report.verdict(time.getScore() < 1000) : "context");
			report.row(figure, engine ? "allocated per request" : "allocated: " + what,
					(bytes != null) ? String.format(Locale.ROOT, "%.0f ± %.0f B", bytes.getScore(), bytes.getScoreError())
							: "n/a",
					engine ? "a handful of bytes" : "-",
					(bytes == null) ? "n/a" : engine ? Report.verdict(bytes.getScore() <= 64) : "context");
		}
		added(report, connectorBytes, "balanced", "allocation added per balanced request (balanced − direct)", "≤ 2 KB",
				2048);
		added(report, connectorBytes, "passThrough", "allocation added per non-balanced call (pass-through − direct)",
				"0 B", 8);
	}

	/** The difference of two allocation figures, its error the root of the squares. */
	private static void added(Report report, Map<String, Result<?>> bytes, String method, String what,
			String target, double limit) {
		Result<?> measured = bytes.get(method);
		Result<?> direct = bytes.get("direct");
		if (measured == null || direct == null) {
			return;
		}
		double added = measured.getScore() - direct.getScore();
		double error = Math.sqrt(square(measured.getScoreError()) + square(direct.getScoreError()));
		report.row("1b. reactive connector, 3 backends", what, String.format(Locale.ROOT, "%.0f ± %.0f B", added, error),
				target, Report.verdict(added <= limit));
	}

	private static double square(double value) {
		return Double.isNaN(value) ? 0 : value * value;
	}

}
