/**
 * The entry point for task modules: what a task module needs, and nothing
 * else. Workers load only this (not the broker, the store or the pool
 * manager), so they start faster and use less memory.
 */
export { z } from 'zod';
export { defineTask, type TaskType, type TaskContext, type TaskTypeSettings, type AnyTaskType } from './core/task-type.js';
