"""The Gymnasium environment: passes the checker, masks what the space forbids, rewards steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import rlnas
from rlnas.env import ArchitectureEnv, make
from rlnas.estimators import load_benchmark
from rlnas.strategies.episodes import EpisodeSettings

GROWING = EpisodeSettings(mode="progressive")


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def layered_space() -> rlnas.SearchSpace:
    """Three layers of 'none', 'a' or 'b'; at least one must not be 'none'."""
    names = ["l0", "l1", "l2"]
    return rlnas.SearchSpace(
        [rlnas.Choice(name, ["none", "a", "b"]) for name in names],
        rules=[rlnas.Rule(lambda c: any(c[n] != "none" for n in names), "one layer at least")],
        growth=rlnas.Growth(steps=[(name,) for name in names], fill=dict.fromkeys(names, "none")),
    )


def value(architecture: rlnas.Architecture) -> dict[str, float]:
    return {"accuracy": sum({"none": 0, "a": 1, "b": 3}[o] for o in architecture.choices.values())}


def play(env: ArchitectureEnv, actions: list[int]) -> tuple[list[float], list[dict]]:
    env.reset(seed=0)
    rewards, infos = [], []
    for action in actions:
        _, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            break
    return rewards, infos


@pytest.mark.parametrize("mode", ["one-shot", "progressive"])
def test_the_benchmark_env_passes_the_gymnasium_checker(mode: str) -> None:
    check_env(make("nbg:cora", mode=mode), skip_render_check=True)


def test_one_shot_rewards_the_finished_architecture_only() -> None:
    env = ArchitectureEnv(layered_space(), value)
    rewards, infos = play(env, [1, 2, 0])
    assert rewards == [0.0, 0.0, 4.0]
    assert dict(infos[-1]["architecture"].choices) == {"l0": "a", "l1": "b", "l2": "none"}


@pytest.mark.parametrize(
    ("step_reward", "step_cost", "expected"),
    [("metric", 0.0, [1.0, 0.0, 4.0, 0.0]), ("improvement", 0.5, [0.5, 0.0, 2.5, 0.0])],
)
def test_progressive_rewards_every_grown_network_until_stop(
    step_reward: str, step_cost: float, expected: list[float]
) -> None:
    episodes = EpisodeSettings(mode="progressive", step_reward=step_reward, step_cost=step_cost)
    env = ArchitectureEnv(layered_space(), value, episodes=episodes)
    # l0 = a, continue, l1 = b, stop
    rewards, infos = play(env, [1, 0, 2, 1])
    assert rewards == expected
    assert [info.get("architecture") is not None for info in infos] == [True, False, True, False]
    assert env.evaluations == 2


def test_masks_close_what_the_space_forbids_and_invalid_actions_are_mapped() -> None:
    env = ArchitectureEnv(layered_space(), value, episodes=GROWING)
    _, info = env.reset(seed=0)
    assert info["action_mask"].tolist() == [True, True, True]
    _, _, _, _, info = env.step(0)  # l0 = none: the network is not valid, so no stop
    assert info["action_mask"].tolist() == [True, False, False]
    assert env.action_masks().tolist() == [True, False, False]
    _, _, terminated, _, info = env.step(1)  # stop is closed: taken as the open 'continue'
    assert info["invalid_action"] and not terminated
    assert env.made["stop@0"] is False


def test_nas_bench_graph_masks_the_all_skip_network() -> None:
    env = make("nbg:cora")
    skip = load_benchmark("nbg:cora").space.choices[1].options.index("skip")
    env.reset(seed=0)
    for action in [0, skip, skip, skip]:
        env.step(action)
    assert not env.action_masks()[skip]


def test_progressive_mode_needs_a_growable_space() -> None:
    flat = rlnas.SearchSpace([rlnas.Choice("x", [1, 2])])
    with pytest.raises(rlnas.UserError, match="does not declare how it grows"):
        ArchitectureEnv(flat, lambda a: {"accuracy": 1.0}, episodes=GROWING)


def test_a_task_env_trains_each_grown_network() -> None:
    env = make("digits", mode="progressive", epochs=1, data_fraction=0.1)
    env.reset(seed=0)
    convolution = env.space.choices[0].options.index("conv3x3")
    _, reward, _, _, _ = env.step(convolution)
    for action in [1, 0]:  # width 16, no skip: the first layer is done and trained
        _, reward, _, _, info = env.step(action)
    assert info["architecture"].key == '[["conv3x3",16,false]]'
    assert 0.0 < reward <= 1.0
    _, reward, terminated, _, _ = env.step(1)  # stop
    assert terminated and reward == 0.0


def test_stable_baselines3_ppo_trains_on_the_progressive_env() -> None:
    stable_baselines3 = pytest.importorskip("stable_baselines3")
    env = make("nbg:cora", mode="progressive")
    agent = stable_baselines3.PPO("MlpPolicy", env, n_steps=64, batch_size=32, seed=0, device="cpu")
    agent.learn(total_timesteps=512)
    observation, _ = env.reset(seed=1)
    action, _ = agent.predict(observation, deterministic=True)
    assert env.action_space.contains(int(action))
    assert env.evaluations > 10
    assert np.isfinite(env.values).all()
