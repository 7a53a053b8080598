"""Hyper-parameters of the feature-selection learners (torch-free, so that configs
and the CLI load without torch)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AGENT_NAMES", "FeatureSelectionAgentConfig"]

#: the learners of :mod:`simcore.domains.feature_cost.agents` (its ``AGENTS`` keys)
AGENT_NAMES: tuple[str, ...] = ("actor-critic", "reinforce")


@dataclass(frozen=True)
class FeatureSelectionAgentConfig:
    """Hyper-parameters of both agents.

    Attributes:
        hidden: hidden layer sizes of the policy networks (tanh; () = linear logits).
        value_hidden: hidden layer sizes of the value network (it reads the same
            standardised observations as the policy).
        lr_policy: step size of the policy optimiser.
        lr_value: Adam step size of the value network.
        policy_optimizer: "adam" or "sgd".  (Without ``normalize_obs``, Adam moves
            every weight by about lr per step whatever its gradient's size, so the
            nearly constant inputs drag every logit to the majority action before the
            contextual weights separate the requests.)
        gamma: discount of the n-step episode (1.0: undiscounted, the cost is additive).
        critic_steps: gradient steps of the value network per batch (before the
            policy step, whose advantages use the updated critic).
        l1: mu, weight of the L1 norm of the policy parameters.
        entropy: weight of the policy-entropy bonus (exploration).
        normalize_advantages: scale advantages to unit variance per batch.
        heads: 0: one policy network for every step; n (default 12, the number of
            features of the default data): one policy network per
            feature (the network of the feature being decided is picked by the
            observation's last n columns, the env's one-hot of the current step), so
            that what is learned for one feature (mostly "evaluate it") does not leak
            into the others through shared weights.
        logit_bound: L > 0 squashes the policy logit to L * tanh(logit / L), so pi stays
            in [sigmoid(-L), sigmoid(L)] and keeps exploring both actions (greedy
            evaluation is unaffected); 0: no bound.
        normalize_obs: feed the policy networks observations standardised by running
            means and variances (one set per head): inputs that are nearly constant
            (the decisions so far, mostly Eval) then carry no common offset that would
            drive every logit at once.
        init_eval_prob: initial pi(Eval | s) (the policy's output bias): starting near
            the full feature set (always safe) and learning what to drop explores far
            better than starting from coin flips, which nearly always break the ranking.
        seed: seed of the network initialisation and of the action sampling.
    """

    hidden: tuple[int, ...] = (16,)
    value_hidden: tuple[int, ...] = (32,)
    lr_policy: float = 3e-3
    lr_value: float = 3e-3
    policy_optimizer: str = "adam"
    gamma: float = 1.0
    critic_steps: int = 2
    l1: float = 1e-5
    entropy: float = 1e-3
    normalize_advantages: bool = True
    heads: int = 12
    logit_bound: float = 0.0
    normalize_obs: bool = True
    init_eval_prob: float = 0.9
    seed: int = 0

    def __post_init__(self) -> None:
        if any(int(h) < 1 for h in self.hidden) or any(int(h) < 1 for h in self.value_hidden):
            raise ValueError(
                f"hidden, value_hidden: need positive layer sizes, got {self.hidden!r}, {self.value_hidden!r}"
            )
        for name in ("lr_policy", "lr_value"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: must be > 0")
        if self.policy_optimizer not in ("sgd", "adam"):
            raise ValueError(f"policy_optimizer: must be 'sgd' or 'adam', got {self.policy_optimizer!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma: must lie in [0, 1], got {self.gamma!r}")
        if not isinstance(self.critic_steps, int) or self.critic_steps < 1:
            raise ValueError(f"critic_steps: must be an integer >= 1, got {self.critic_steps!r}")
        if self.l1 < 0 or self.entropy < 0:
            raise ValueError("l1, entropy: must be >= 0")
        if not self.logit_bound >= 0:
            raise ValueError(f"logit_bound: must be >= 0, got {self.logit_bound!r}")
        if not isinstance(self.heads, int) or self.heads < 0:
            raise ValueError(f"heads: must be an integer >= 0, got {self.heads!r}")
        if not 0.0 < self.init_eval_prob < 1.0:
            raise ValueError(f"init_eval_prob: must lie in (0, 1), got {self.init_eval_prob!r}")
