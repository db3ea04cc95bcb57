package io.github.openailb.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Reproduces every figure of {@code docs/BENCHMARKS.md} in one run and prints them as a
 * markdown table (also written to {@code benchmark-results.md} next to the jar).
 * <p>
 * Arguments: {@code --quick} for a smoke run of a few seconds per figure (numbers not
 * meaningful); figure numbers ({@code 1 2 4}) to run only those, {@code 2a} for the Spring AI
 * row of figure 2 alone.
 */
public final class RunAll {

	private RunAll() {
	}

	/**
	 * Run the benchmarks.
	 * @param args {@code --quick} and/or figure numbers
	 * @throws Exception on any failure: a benchmark that cannot run is an error, not a number
	 */
	public static void main(String[] args) throws Exception {
		List<String> options = Arrays.asList(args);
		double scale = options.contains("--quick") ? 0.2 : 1.0;
		List<String> figures = options.stream().filter((option) -> option.matches("\\d|2a")).toList();
		Report report = new Report();
		long start = System.nanoTime();
		System.out.println(machine());
		if (wanted(figures, "0")) {
			StubCapacity.run(report, scale);
		}
		if (wanted(figures, "1")) {
			EngineFigure.run(report, scale);
		}
		if (wanted(figures, "2")) {
			ClientOverhead.run(report, scale);
		}
		if (wanted(figures, "2") || figures.contains("2a")) {
			SpringAiOverhead.run(report, scale);
		}
		if (wanted(figures, "3")) {
			FailoverCost.run(report, scale);
		}
		if (wanted(figures, "4")) {
			Goodput.run(report, scale);
		}
		if (wanted(figures, "5")) {
			StreamingFirstByte.run(report, scale);
		}
		if (wanted(figures, "6")) {
			Memory.run(report, scale);
		}
		if (wanted(figures, "9")) {
			TwoModelsGoodput.run(report, scale);
		}
		String table = report.markdown();
		System.out.printf(Locale.ROOT, "%n## Results (%s, %.0f s)%n%n%s%n%s%n", Instant.now(),
				(System.nanoTime() - start) / 1e9, machine(), table);
		Path results = resultsFile();
		Files.writeString(results, machine() + "\n\n" + table);
		System.out.println("Written to " + results);
		System.exit(0);
	}

	/** Next to the jar (the module's target directory), else the working directory. */
	private static Path resultsFile() {
		try {
			Path jar = Path.of(RunAll.class.getProtectionDomain().getCodeSource().getLocation().toURI());
			return jar.resolveSibling("benchmark-results.md");
		}
		catch (Exception ex) {
			return Path.of("benchmark-results.md");
		}
	}

	private static boolean wanted(List<String> figures, String figure) {
		return figures.isEmpty() || figures.contains(figure);
	}

	static String machine() {
		Runtime runtime = Runtime.getRuntime();
		String load;
		try {
			load = Files.readString(Path.of("/proc/loadavg")).trim();
		}
		catch (IOException ex) {
			load = "n/a";
		}
		return String.format(Locale.ROOT, "Machine: %d CPUs, max heap %d MiB, %s %s (%s), %s; load average %s",
				runtime.availableProcessors(), runtime.maxMemory() >> 20, System.getProperty("java.vm.name"),
				System.getProperty("java.runtime.version"), System.getProperty("os.arch"),
				ManagementFactory.getRuntimeMXBean().getInputArguments(), load);
	}

}
