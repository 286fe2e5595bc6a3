"""The pipeline's last stage, the answer: the options emitted for the kept candidates
(:mod:`~reqsolve.answers.emit`), their type (:mod:`~reqsolve.answers.options`), the alphabet of a
name they may carry (:mod:`~reqsolve.answers.names`) and every form the answer is given in
(:mod:`~reqsolve.answers.renderings`). Nothing here talks to a cluster: that is
:mod:`reqsolve.slurm`."""
