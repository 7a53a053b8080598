"""Cloud autoscaling (issue 15): B application zones whose VMs a policy scales ahead of
their traffic so that CPU utilisation stays near a target (docs/autoscaling_model.md).

:mod:`.config` (AutoscalingConfig, WorkloadConfig), :mod:`.workload` (the zone
population generator), :mod:`.simulator` (the batched C++ simulator's face),
:mod:`.reference` (its NumPy twin), :mod:`.exact` (exact expectations), :mod:`.env`
(``simcore/Autoscaling-v0``), :mod:`.baselines` (the rule-based autoscalers).
The workload forecaster (torch): :mod:`.forecast`, its inputs :mod:`.forecast_features`,
baselines :mod:`.forecast_baselines` and accuracy runs :mod:`.forecast_eval`; public trace
CSVs: :mod:`.traces` (docs/autoscaling_forecast.md).
"""
