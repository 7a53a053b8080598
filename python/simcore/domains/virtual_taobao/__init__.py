"""Virtual Taobao: a user simulator learned from search logs (issue 12; docs/virtual_taobao.md).

Derived from the search domain: the engine's ranking (top-K by the C++ kernel) and
the observation layout are the search simulator's; the user is learned.

* :mod:`.data` - page views of a log as training tensors (streamed);
* :mod:`.users` - user populations (prior, empirical, Gaussian mixture) and their
  fidelity; :mod:`.gansd` - GAN-SD;
* :mod:`.model`, :mod:`.bc` - the behaviour model and behaviour cloning;
* :mod:`.sim`, :mod:`.env` - the learned simulator and its Gymnasium envs
  (``simcore/LearnedSearch-v0``, registered when :mod:`.env` is imported);
* :mod:`.gail` - MAIL/GAIL (discriminator reward, PPO on the user policy);
* :mod:`.mail` - MAIL rollouts of the user; :mod:`.joint` - MAIL with the joint
  engine-user policy (a learned engine policy, D on (s, a_e, a_u));
* :mod:`.anc` - the action norm constraint.
Needs torch (and pyarrow for logs).
"""
