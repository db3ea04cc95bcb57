package io.github.openailb.actuate;

import io.github.openailb.autoconfigure.OpenAiLbActuatorAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.BootLine;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

class OpenAiLbActuatorAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(BootLine.METRICS))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class,
				OpenAiLbActuatorAutoConfiguration.class))
		.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=http://localhost:1");

	@Test
	void providesHealthAndMetricsAndTheEngineReportsToTheMetrics() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(OpenAiLbHealthIndicator.class)
				.hasSingleBean(OpenAiLbMetrics.class)
				.hasSingleBean(OpenAiLbBackendStateMetrics.class)
				.hasBean("openAiLbHealthIndicator");
			assertThat(context.getBean(MeterRegistry.class).find("openai.lb.backend.state").gauges()).isNotEmpty();
		});
	}

	@Test
	void backsOffWhenTheUserDefinesTheBeans() {
		OpenAiLbMetrics metrics = new OpenAiLbMetrics(new SimpleMeterRegistry(), java.util.List.of());
		OpenAiLbHealthIndicator health = new OpenAiLbHealthIndicator(LoadBalancer
			.builder(BalancerConfig.builder()
				.backend(new BalancerConfig.BackendBuilder().name("x").url("http://localhost:2"))
				.build())
			.build());
		this.contextRunner.withBean("myMetrics", OpenAiLbMetrics.class, () -> metrics)
			.withBean("myHealth", OpenAiLbHealthIndicator.class, () -> health)
			.run((context) -> {
				assertThat(context).getBean(OpenAiLbMetrics.class).isSameAs(metrics);
				assertThat(context).getBean(OpenAiLbHealthIndicator.class).isSameAs(health);
				assertThat(context).doesNotHaveBean("openAiLbMetrics").doesNotHaveBean("openAiLbHealthIndicator");
			});
	}

	@Test
	void healthCanBeSwitchedOffAlone() {
		this.contextRunner.withPropertyValues("management.health.openAiLb.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(OpenAiLbHealthIndicator.class)
				.hasSingleBean(OpenAiLbMetrics.class));
	}

	@Test
	void noHealthWithoutActuator() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(BootLine.HEALTH_INDICATOR))
			.run((context) -> assertThat(context).doesNotHaveBean(OpenAiLbHealthIndicator.class)
				.hasSingleBean(LoadBalancer.class));
	}

	@Test
	void noMetricsWithoutAMeterRegistry() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class,
					OpenAiLbActuatorAutoConfiguration.class))
			.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=http://localhost:1")
			.run((context) -> assertThat(context).doesNotHaveBean(OpenAiLbMetrics.class)
				.hasSingleBean(OpenAiLbHealthIndicator.class));
	}

	@Test
	void providesTheEndpointOnlyWhereItIsExposed() {
		this.contextRunner.run((context) -> assertThat(context).doesNotHaveBean(OpenAiLbEndpoint.class));
		this.contextRunner.withPropertyValues("management.endpoints.web.exposure.include=openailb")
			.run((context) -> assertThat(context).hasSingleBean(OpenAiLbEndpoint.class));
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=openailb",
					"management.endpoint.openailb.access=NONE")
			.run((context) -> assertThat(context).doesNotHaveBean(OpenAiLbEndpoint.class));
	}

	@Test
	void theEndpointBacksOffWhenTheUserDefinesOne() {
		this.contextRunner.withPropertyValues("management.endpoints.web.exposure.include=openailb")
			.withBean("myEndpoint", OpenAiLbEndpoint.class,
					() -> new OpenAiLbEndpoint(LoadBalancer
						.builder(BalancerConfig.builder()
							.backend(new BalancerConfig.BackendBuilder().name("x").url("http://localhost:2"))
							.build())
						.build()))
			.run((context) -> assertThat(context).hasSingleBean(OpenAiLbEndpoint.class)
				.hasBean("myEndpoint")
				.doesNotHaveBean("openAiLbEndpoint"));
	}

	@Test
	void noEndpointWithoutTheActuator() {
		this.contextRunner.withPropertyValues("management.endpoints.web.exposure.include=openailb")
			.withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate.endpoint"))
			.run((context) -> assertThat(context).doesNotHaveBean(OpenAiLbEndpoint.class)
				.hasSingleBean(LoadBalancer.class));
	}

	@Test
	void nothingWhenTheBalancerIsOff() {
		this.contextRunner.withPropertyValues("openai.lb.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(OpenAiLbHealthIndicator.class)
				.doesNotHaveBean(OpenAiLbMetrics.class));
	}

}
