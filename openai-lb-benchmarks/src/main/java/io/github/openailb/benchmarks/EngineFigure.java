package io.github.openailb.benchmarks;

import java.util.Collection;
import java.util.Locale;

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
		for (RunResult result : results) {
			String benchmark = result.getParams().getBenchmark();
			String backends = result.getParams().getParam("backends");
			Result<?> time = result.getPrimaryResult();
			Result<?> bytes = result.getSecondaryResults().get("·gc.alloc.rate.norm");
			if (bytes == null) {
				bytes = result.getSecondaryResults().get("gc.alloc.rate.norm");
			}
			boolean engine = benchmark.endsWith("selectAndRecord");
			String figure = engine ? "1. engine, " + backends + " backends" : "1b. reactive connector, 3 backends";
			report.row(figure, engine ? "begin + next + answered(200)" : "one request through the connector, in-memory transport",
					String.format(Locale.ROOT, "%.1f ± %.1f ns", time.getScore(), time.getScoreError()),
					engine ? "≪ 1 µs" : "-", engine ? Report.verdict(time.getScore() < 1000) : "context");
			report.row(figure, "allocated per request",
					(bytes != null) ? String.format(Locale.ROOT, "%.0f ± %.0f B", bytes.getScore(), bytes.getScoreError())
							: "n/a",
					engine ? "a handful of bytes" : "-",
					(bytes == null) ? "n/a" : engine ? Report.verdict(bytes.getScore() <= 64) : "context");
		}
	}

}
