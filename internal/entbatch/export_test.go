package entbatch

// IdleWorkers is the number of idle workers, MaxIdleWorkers their bound
// (for tests).
func IdleWorkers() int {
	idle.Lock()
	defer idle.Unlock()
	return len(idle.workers)
}

func MaxIdleWorkers() int { return maxIdle }
