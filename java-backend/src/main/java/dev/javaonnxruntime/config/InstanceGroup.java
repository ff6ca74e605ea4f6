package dev.javaonnxruntime.config;

import java.util.List;

/** One {@code instance_group} entry: how many instances of which kind, on which GPUs. */
public record InstanceGroup(String name, String kind, int count, List<Integer> gpus) {}
