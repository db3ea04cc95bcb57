package io.github.openailb.demo.simulator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Points the balancer at the simulated instances when the simulator is enabled: gives each
 * instance without a fixed port a free loopback port and replaces {@code openai.lb.backends}
 * with their URLs and deployment maps, so the balancer is configured exactly as it would be for
 * real instances.
 */
class SimulatorEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

	static final String PROPERTY_SOURCE_NAME = "demoSimulatorBackends";

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		Binder binder = Binder.get(environment);
		SimulatorProperties simulator = binder.bind("demo.simulator", Bindable.of(SimulatorProperties.class))
			.orElseGet(SimulatorProperties::new);
		if (!simulator.isEnabled() || simulator.getInstances().isEmpty()) {
			return;
		}
		Map<String, Object> properties = new LinkedHashMap<>();
		int index = 0;
		// by priority then name: the order of the property sources that named them does not matter
		List<Map.Entry<String, SimulatorProperties.Instance>> instances = simulator.getInstances()
			.entrySet()
			.stream()
			.sorted(Comparator.comparingInt((Map.Entry<String, SimulatorProperties.Instance> entry) -> entry.getValue()
				.getPriority()).thenComparing(Map.Entry::getKey))
			.toList();
		for (Map.Entry<String, SimulatorProperties.Instance> entry : instances) {
			String name = entry.getKey();
			SimulatorProperties.Instance instance = entry.getValue();
			int port = (instance.getPort() != 0) ? instance.getPort() : freePort();
			String backend = "openai.lb.backends[" + index++ + "].";
			properties.put("demo.simulator.instances." + name + ".port", port);
			properties.put(backend + "name", name);
			properties.put(backend + "url", "http://127.0.0.1:" + port);
			properties.put(backend + "priority", instance.getPriority());
			properties.put(backend + "weight", instance.getWeight());
			properties.put(backend + "api-key", Simulator.apiKey(name));
			// brackets keep a model name with dots (gpt-4.1) one key
			instance.getDeployments()
				.forEach((model, deployment) -> properties.put(backend + "deployments.[" + model + "]",
						deployment.getName()));
		}
		// first, so that the simulated instances replace any configured list as a whole
		environment.getPropertySources().addFirst(new MapPropertySource(PROPERTY_SOURCE_NAME, properties));
	}

	private static int freePort() {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("No free loopback port for the simulator", ex);
		}
	}

	@Override
	public int getOrder() {
		// after application.yml and the command line have been read
		return Ordered.LOWEST_PRECEDENCE - 100;
	}

}
