package io.github.openailb.demo.boot4;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.github.openailb.simulator.SimulatedBackend;
import io.github.openailb.simulator.SimulatedDeployment;
import io.github.openailb.simulator.SimulatedInstance;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * The Boot 4 demo: Spring AI 2's {@code ChatClient} over {@code OpenAiChatModel} in the OpenAI
 * SDK's Azure mode, balanced by openai-lb across three simulated Azure OpenAI instances on
 * loopback (a small provisioned one first, two pay-as-you-go ones behind it), with
 * {@code OpenAiEmbeddingModel} beside it. Each instance names its deployments after its region, each
 * with its own budget; paygo-2 has no embeddings deployment. Nothing leaves the machine. {@code --demo.simulator.enabled=false} leaves the simulator off, for real instances
 * configured in {@code openai.lb.backends}.
 */
@SpringBootApplication
public class Boot4DemoApplication {

	/**
	 * Start the simulated instances (unless switched off), then the application aimed at them.
	 * @param args the command line
	 */
	public static void main(String[] args) {
		run(args);
	}

	static ConfigurableApplicationContext run(String... args) {
		boolean simulate = !Arrays.asList(args).contains("--demo.simulator.enabled=false");
		List<SimulatedBackend> simulated = simulate ? startSimulator() : List.of();
		SpringApplication application = new SpringApplication(Boot4DemoApplication.class);
		application.setDefaultProperties(backends(simulated));
		try {
			ConfigurableApplicationContext context = application.run(args);
			context.addApplicationListener((org.springframework.context.event.ContextClosedEvent event) -> simulated
				.forEach(SimulatedBackend::stop));
			return context;
		}
		catch (RuntimeException ex) {
			simulated.forEach(SimulatedBackend::stop);
			throw ex;
		}
	}

	/** The chat model the application asks for (spring.ai.openai.microsoft-deployment-name). */
	static final String CHAT = "gpt-4o-mini";

	/** The embedding model the application asks for (spring.ai.openai.embedding.model). */
	static final String EMBEDDING = "text-embedding-3-small";

	/**
	 * ptu: chat 30 requests a minute, so a burst spills over at once; paygo-1 and -2: 300 each.
	 * Embeddings have budgets of their own, on ptu and paygo-1 only.
	 */
	private static List<SimulatedBackend> startSimulator() {
		List<SimulatedBackend> backends = new ArrayList<>();
		backends.add(new SimulatedBackend("ptu",
				instance(1, Map.of(CHAT, new SimulatedDeployment("gpt-4o-mini-ptu", 30), EMBEDDING,
						new SimulatedDeployment("emb-small-eastus", 600))),
				apiKey("ptu")));
		backends.add(new SimulatedBackend("paygo-1",
				instance(2, Map.of(CHAT, new SimulatedDeployment("gpt-4o-mini-swc", 300), EMBEDDING,
						new SimulatedDeployment("emb-small-swc", 300))),
				apiKey("paygo-1")));
		backends.add(new SimulatedBackend("paygo-2",
				instance(2, Map.of(CHAT, new SimulatedDeployment("gpt-4o-mini-frc", 300))), apiKey("paygo-2")));
		for (SimulatedBackend backend : backends) {
			try {
				backend.start();
			}
			catch (IOException ex) {
				backends.forEach(SimulatedBackend::stop);
				throw new UncheckedIOException("Simulated instance '" + backend.name() + "' could not start", ex);
			}
		}
		return backends;
	}

	private static SimulatedInstance instance(int priority, Map<String, SimulatedDeployment> deployments) {
		SimulatedInstance instance = new SimulatedInstance();
		instance.setPriority(priority);
		instance.setLatency(Duration.ofMillis(150));
		// chat first: the order the deployments are listed in
		instance.setDeployments(new java.util.TreeMap<>(deployments));
		return instance;
	}

	/** The (fake) key a simulated instance expects, so a wrong key shows up as a 401. */
	private static String apiKey(String name) {
		return "simulated-key-" + name;
	}

	/**
	 * The balancer's backends: the simulated instances, configured as real ones would be, each
	 * mapping the models it serves to its own deployment names.
	 */
	private static Map<String, Object> backends(List<SimulatedBackend> simulated) {
		Map<String, Object> properties = new LinkedHashMap<>();
		for (int i = 0; i < simulated.size(); i++) {
			SimulatedBackend backend = simulated.get(i);
			String prefix = "openai.lb.backends[" + i + "].";
			properties.put(prefix + "name", backend.name());
			properties.put(prefix + "url", "http://127.0.0.1:" + backend.port());
			properties.put(prefix + "priority", backend.name().equals("ptu") ? 1 : 2);
			properties.put(prefix + "api-key", apiKey(backend.name()));
			backend.deployments()
				.forEach((model, deployment) -> properties.put(prefix + "deployments.[" + model + "]", deployment));
		}
		return properties;
	}

	@Bean
	ChatClient chatClient(ChatClient.Builder builder) {
		return builder.build();
	}

}
